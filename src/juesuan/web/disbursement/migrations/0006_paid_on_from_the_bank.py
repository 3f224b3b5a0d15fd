"""到账日期 is the bank's day or none. Until now no result format gave one and an import wrote
its own day instead, which made 按时发放率 a figure of when results were imported: those days
are cleared, so such payments read 无银行到账日期."""

from django.db import migrations


def clear_import_days(apps, schema_editor):
    Payment = apps.get_model("disbursement", "Payment")
    Payment.objects.filter(paid_on__isnull=False).update(paid_on=None)


class Migration(migrations.Migration):
    dependencies = (("disbursement", "0005_person_key"),)

    operations = (migrations.RunPython(clear_import_days, migrations.RunPython.noop),)
