"""Refuse UPDATE and DELETE on consent events and audit entries in the database itself."""

from django.db import migrations

from privacy.append_only import create_append_only_triggers, drop_append_only_triggers

TABLES = ["privacy_consentevent", "privacy_auditentry"]


def create_triggers(apps, schema_editor):
    create_append_only_triggers(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    drop_append_only_triggers(schema_editor, TABLES, drop_function=True)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
