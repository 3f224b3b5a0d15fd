"""Settling recoveries (追回): collections and write-offs (`RecoverySettlement`), the sums that
count kept on the recovery, and its statuses 部分追回 and 已核销."""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = (
        ("accounts", "0001_initial"),
        ("disbursement", "0002_payment_fillfactor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    )

    operations = (
        migrations.CreateModel(
            name="RecoverySettlement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("family", "家属退回"),
                            ("bank", "银行退回"),
                            ("offset", "从后续发放中扣回"),
                            ("write_off", "核销"),
                        ],
                        max_length=20,
                        verbose_name="追回方式",
                    ),
                ),
                ("amount", models.BigIntegerField(verbose_name="金额（分）")),
                ("day", models.DateField(verbose_name="日期")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="说明")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("entered", "待复核"),
                            ("checked", "已复核"),
                            ("approved", "已审批"),
                            ("rejected", "未通过"),
                        ],
                        default="entered",
                        max_length=20,
                    ),
                ),
                ("entered_at", models.DateTimeField(auto_now_add=True)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("recovery", "pk"),
            },
        ),
        migrations.AddField(
            model_name="recovery",
            name="collected",
            field=models.BigIntegerField(default=0, verbose_name="已追回（分）"),
        ),
        migrations.AddField(
            model_name="recovery",
            name="written_off",
            field=models.BigIntegerField(default=0, verbose_name="已核销（分）"),
        ),
        migrations.AlterField(
            model_name="recovery",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "待追回"),
                    ("partly", "部分追回"),
                    ("settled", "已追回"),
                    ("written_off", "已核销"),
                ],
                default="open",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="recovery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("collected__gte", 0),
                    ("written_off__gte", 0),
                    (
                        "amount__gte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("collected"), "+", models.F("written_off")
                        ),
                    ),
                ),
                name="dis_recovery_not_overcollected",
            ),
        ),
        migrations.AddField(
            model_name="recoverysettlement",
            name="approved_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="recoverysettlement",
            name="checked_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="recoverysettlement",
            name="entered_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="recoverysettlement",
            name="recovery",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settlements",
                to="disbursement.recovery",
            ),
        ),
        migrations.AddField(
            model_name="recoverysettlement",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.unit"
            ),
        ),
        migrations.AddConstraint(
            model_name="recoverysettlement",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="dis_settlement_positive"
            ),
        ),
    )
