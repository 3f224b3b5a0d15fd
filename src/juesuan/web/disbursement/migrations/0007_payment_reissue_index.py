"""A month writes millions of payments, none of them a re-issue: the unique index on `reissue_of`
held an entry for each of them, and its deferred foreign key checked each at commit. Each
payment is still re-issued at most once, by a unique index over the re-issues alone; the
reference is kept by the services, as for the run and the scheme (see `Beneficiary`)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = (("disbursement", "0006_paid_on_from_the_bank"),)

    operations = (
        migrations.AlterField(
            model_name="payment",
            name="reissue_of",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reissued_as",
                to="disbursement.payment",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reissue_of__isnull", False)),
                fields=("reissue_of",),
                name="dis_payment_reissued_once",
            ),
        ),
    )
