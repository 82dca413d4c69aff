"""Load GB/T 3304-1991 ethnic groups (plus 97 and 98) from data/gb3304-ethnic-groups.csv."""

import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parent.parent / "data" / "gb3304-ethnic-groups.csv"


def load(apps, schema_editor):
    Ethnicity = apps.get_model("residents", "Ethnicity")
    with CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            Ethnicity.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name_zh"],
                    "romanization": row["romanization"],
                    "letter_code": row["letter_code"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("residents", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
