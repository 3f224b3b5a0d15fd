"""人员编号: payment numbers carry a person key instead of the 公民身份号码. Every person already
in a unit's roster, events or payments gets one, in order of identity number."""

from django.db import migrations, models


def give_keys(apps, schema_editor):
    PersonKey = apps.get_model("disbursement", "PersonKey")
    people: dict[int, set[str]] = {}
    for name in ("Beneficiary", "Payment", "LifeEvent", "Recovery"):
        rows = apps.get_model("disbursement", name).objects.values_list("unit_id", "person_id")
        for unit_id, person_id in rows.distinct().iterator(chunk_size=20_000):
            people.setdefault(unit_id, set()).add(person_id)
    for unit_id, ids in people.items():
        PersonKey.objects.bulk_create(
            (
                PersonKey(unit_id=unit_id, person_id=person_id, key=f"P{n:09d}")
                for n, person_id in enumerate(sorted(ids), 1)
            ),
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = (("disbursement", "0004_scheme_payer_name"),)

    operations = (
        migrations.CreateModel(
            name="PersonKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("person_id", models.CharField(max_length=18, verbose_name="公民身份号码")),
                ("key", models.CharField(max_length=10, verbose_name="人员编号")),
                (
                    "unit",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.unit",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("unit", "person_id"), name="dis_person_key_person"
                    ),
                    models.UniqueConstraint(fields=("unit", "key"), name="dis_person_key_unique"),
                ],
            },
        ),
        migrations.RunPython(give_keys, migrations.RunPython.noop),
    )
