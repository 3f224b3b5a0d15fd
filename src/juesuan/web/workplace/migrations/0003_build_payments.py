"""A package remembers the payments its performance actuals came from (stamp and figures)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = (("workplace", "0002_upload_and_audit_jobs"),)

    operations = (
        migrations.AddField(
            model_name="build", name="payments", field=models.JSONField(default=dict)
        ),
    )
