"""The database's guarantee that nobody but its patient books a slot held by an open waitlist
offer: a trigger on the appointments table refuses a booked row (inserted, or moved or set back to
booked) overlapping another patient's open offer of the same doctor. PostgreSQL raises an
exclusion_violation naming the constraint waitlist_offer_holds_slot; SQLite aborts with that
message. The booking services turn either into slot_unavailable (appointments.held_time)."""

from django.db import migrations

POSTGRES_CREATE = """
CREATE FUNCTION waitlist_offer_holds_slot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'booked' AND EXISTS (
        SELECT 1 FROM waitlist_waitlistoffer o
        WHERE o.doctor_id = NEW.doctor_id
          AND o.status = 'open'
          AND o.patient_id <> NEW.patient_id
          AND o.start < NEW."end"
          AND o."end" > NEW.start
    ) THEN
        RAISE EXCEPTION 'this time is held for a patient from the waitlist'
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'waitlist_offer_holds_slot';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER waitlist_offer_holds_slot
    BEFORE INSERT OR UPDATE OF status, start, "end", doctor_id, patient_id ON appointments_appointment
    FOR EACH ROW EXECUTE FUNCTION waitlist_offer_holds_slot();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS waitlist_offer_holds_slot ON appointments_appointment;
DROP FUNCTION IF EXISTS waitlist_offer_holds_slot();
"""

SQLITE_CONDITION = """
    WHEN NEW.status = 'booked' AND EXISTS (
        SELECT 1 FROM waitlist_waitlistoffer o
        WHERE o.doctor_id = NEW.doctor_id
          AND o.status = 'open'
          AND o.patient_id <> NEW.patient_id
          AND o.start < NEW."end"
          AND o."end" > NEW.start
    )
    BEGIN SELECT RAISE(ABORT, 'waitlist_offer_holds_slot'); END;
"""
SQLITE_CREATE = [
    'CREATE TRIGGER waitlist_offer_holds_slot_insert BEFORE INSERT ON appointments_appointment' + SQLITE_CONDITION,
    'CREATE TRIGGER waitlist_offer_holds_slot_update BEFORE UPDATE OF status, start, "end", doctor_id, patient_id '
    "ON appointments_appointment" + SQLITE_CONDITION,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS waitlist_offer_holds_slot_insert",
    "DROP TRIGGER IF EXISTS waitlist_offer_holds_slot_update",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("waitlist", "0001_initial"),
        ("appointments", "0002_day_availability"),
    ]

    operations = [migrations.RunPython(create, drop)]
