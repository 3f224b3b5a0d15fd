"""Uploads and audits of published texts run as jobs: a job's year may be unknown until its
workbook is read, and an audit belongs to no unit."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = (
        ("accounts", "0001_initial"),
        ("workplace", "0001_initial"),
    )

    operations = (
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("build", "生成公开包"),
                    ("consolidate", "汇总"),
                    ("import", "导入数据"),
                    ("audit", "审核已公开文本"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="unit",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="jobs",
                to="accounts.unit",
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="year",
            field=models.IntegerField(null=True),
        ),
    )
