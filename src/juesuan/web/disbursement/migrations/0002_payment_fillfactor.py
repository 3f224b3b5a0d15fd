"""Room in each page of the payment table (PostgreSQL): approving a run and importing the bank's
result change the status of millions of payments; with free space in the page and no index on
the status, PostgreSQL updates a row in place (HOT) instead of adding an entry to every index."""

from __future__ import annotations

from django.db import migrations

TABLE = "disbursement_payment"


def _run(statement: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = (("disbursement", "0001_initial"),)

    operations = (
        migrations.RunPython(
            _run(f"ALTER TABLE {TABLE} SET (fillfactor = 45)"),
            _run(f"ALTER TABLE {TABLE} RESET (fillfactor)"),
        ),
    )
