"""The payer account's name (付款户名) beside its number and bank: a batch cannot be approved
without all three."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = (("disbursement", "0003_recovery_settlement"),)

    operations = (
        migrations.AddField(
            model_name="scheme",
            name="payer_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="付款户名"),
        ),
    )
