"""Consent events and audit entries past their retention period may be deleted by the destruction
run, and only while it holds a DestructionPermit row for that table inside its own transaction;
UPDATE stays refused always (privacy.append_only)."""

from django.db import migrations, models

from privacy.append_only import allow_permitted_deletes, refuse_all_deletes

TABLES = ["privacy_consentevent", "privacy_auditentry"]


def forwards(apps, schema_editor):
    allow_permitted_deletes(schema_editor, TABLES)


def backwards(apps, schema_editor):
    refuse_all_deletes(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0008_breachrecord")]
    operations = [
        migrations.CreateModel(
            name="DestructionPermit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("table", models.CharField(max_length=63, unique=True)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
