"""Consent events name who acted: the subject, or a guardian acting for them (accounts.Guardianship).

Consent events are append-only (0002, 0009): the column is added NULL without a default, so no
existing row is rewritten (an UPDATE would be refused by the trigger, and must be). Old events
keep NULL: they were all given by the subject themself. Both PostgreSQL and SQLite add the column
in place, which keeps the triggers; SQLite drops a foreign-key column by rebuilding the table,
which would lose them, so the reverse step puts them back."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from privacy.append_only import allow_permitted_deletes, create_append_only_triggers, drop_append_only_triggers

TABLES = ["privacy_consentevent"]


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    drop_append_only_triggers(schema_editor, TABLES)
    create_append_only_triggers(schema_editor, TABLES)
    allow_permitted_deletes(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0009_destruction_permit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_sqlite_triggers),
        migrations.AddField(
            model_name="consentevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consent_acts",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
