"""Load the departments the service starts with (accounts/data/departments.csv)."""

import csv
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "departments.csv"


def load(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_slug = {}
    for row in rows:
        department, _ = Department.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "acronym": row["acronym"],
                "email_domain": row["email_domain"],
            },
        )
        by_slug[row["slug"]] = department
    for row in rows:
        if row["parent_slug"]:
            Department.objects.filter(slug=row["slug"]).update(parent=by_slug[row["parent_slug"]])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
