"""The default departments (``choices.DEFAULT_DEPARTMENTS``): reference data every
installation starts with, created with the database rather than by a service."""

from typing import Any

from django.db import migrations

DEPARTMENTS = (
    ("risk", "Risk management"),
    ("retail", "Retail and personal finance"),
    ("agriculture", "Agriculture and rural finance"),
    ("small_business", "Small business finance"),
    ("legal", "Legal"),
    ("finance", "Planning and finance"),
    ("hr", "Human resources"),
    ("office", "Office"),
)


def create(apps: Any, schema_editor: Any) -> None:
    department = apps.get_model("casework", "Department")
    for code, name in DEPARTMENTS:
        department.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
