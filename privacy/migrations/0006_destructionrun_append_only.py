"""Refuse UPDATE and DELETE on destruction runs in the database itself, like consent events."""

from django.db import migrations

from privacy.append_only import create_append_only_triggers, drop_append_only_triggers

TABLES = ["privacy_destructionrun"]


def create_triggers(apps, schema_editor):
    create_append_only_triggers(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    # The trigger function belongs to 0002; only this table's triggers go.
    drop_append_only_triggers(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0005_destructionrun")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
