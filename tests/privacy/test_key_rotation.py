"""Key rotation: data written under an old key is readable during the rotation and after it, the
command re-encrypts every encrypted column, and SECRET_KEY plays no part in encryption."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import override_settings

from health_profiles.models import HealthEntry
from medplatform.encryption import DecryptionError
from privacy.management.commands.rotate_encryption_key import encrypted_columns
from privacy.models import EncryptionCanary
from tests.health_profiles.scenario import ENTRY_VALUES, add_entry, full_profile

pytestmark = pytest.mark.django_db

OLD = "old-cryptography-key-for-tests-0123456789abcdef"
NEW = "new-cryptography-key-for-tests-fedcba9876543210"
OTHER = "a-key-nobody-configured-0000000000000000000000"


def raw_names() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM health_profiles_healthentry")
        return {uuid.UUID(str(pk)): bytes(value) for pk, value in cursor.fetchall()}


def names() -> set[str]:
    return set(HealthEntry.objects.values_list("name", flat=True))


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def written_with_old_key(patient_ayse):
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        full_profile(patient_ayse)
        patient_ayse.national_id = "10000000146"
        patient_ayse.save(update_fields=["national_id"])
        EncryptionCanary.objects.all().delete()
        EncryptionCanary.objects.create(value=EncryptionCanary.PLAINTEXT)
    return patient_ayse


def test_the_command_finds_every_encrypted_column_through_the_app_registry():
    found = {model._meta.label: [f.name for f in fields] for model, fields in encrypted_columns()}

    assert found["health_profiles.HealthEntry"] == [
        "name",
        "details",
        "reaction",
        "severity",
        "dose",
        "frequency",
        "diagnosed_on",
        "started_on",
        "ended_on",
    ]
    assert found["accounts.User"] == ["national_id"]
    assert found["privacy.EncryptionCanary"] == ["value"]
    assert set(found.get("appointments.Appointment", ["visit_reason", "exam_type"])) >= {"visit_reason", "exam_type"}


def test_old_key_data_reads_during_rotation_and_after_it_with_the_new_key_alone(written_with_old_key):
    expected = {values["name"] for values in ENTRY_VALUES.values()}
    before = raw_names()

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        assert names() == expected  # readable while the rotation has not run yet
        output = rotate()
        assert names() == expected

    # 15 entry values (4 allergy, 4 medication, 3 condition, 4 treatment), the national id, the canary
    assert "re-encrypted 17 values; 0 already current; 0 undecryptable." in output
    after = raw_names()
    assert set(after) == set(before) and all(after[pk] != before[pk] for pk in before)
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert names() == expected
        written_with_old_key.refresh_from_db()
        assert written_with_old_key.national_id == "10000000146"
        assert EncryptionCanary.objects.get().value == EncryptionCanary.PLAINTEXT
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]), pytest.raises(DecryptionError):
        names()


def test_a_dry_run_counts_and_writes_nothing(written_with_old_key):
    before = raw_names()

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        output = rotate("--dry-run")

    assert "Dry run: would re-encrypt" in output
    assert "health_profiles.HealthEntry" in output and "4 rows" in output
    assert raw_names() == before


def test_a_second_run_only_touches_what_is_still_under_an_old_key(written_with_old_key, patient_ayse):
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        rotate()
        again = rotate()
    assert "re-encrypted 0 values" in again

    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        add_entry(patient_ayse, "medication", name="Late-write-ZQX")
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        output = rotate()
    assert "re-encrypted 4 values" in output  # name, details, dose, frequency of the late entry


def refuse_updates_of(entry_id) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_interrupt BEFORE UPDATE ON health_profiles_healthentry "
                f"WHEN OLD.id = '{entry_id.hex}' BEGIN SELECT RAISE(ABORT, 'interrupted by test'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_interrupt() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'interrupted by test'; "
                "END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_interrupt BEFORE UPDATE ON health_profiles_healthentry FOR EACH ROW "
                f"WHEN (OLD.id = '{entry_id}') EXECUTE FUNCTION test_interrupt()"
            )


def drop_interruption() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER test_interrupt")
        else:
            cursor.execute("DROP TRIGGER test_interrupt ON health_profiles_healthentry")


def test_an_interrupted_rotation_keeps_finished_batches_and_resumes(written_with_old_key):
    # given a failure on the last entry (in id order), in the middle of the run
    last_id, last_category = HealthEntry.objects.order_by("id").values_list("id", "category").last()
    before = raw_names()
    refuse_updates_of(last_id)

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        with pytest.raises(DatabaseError, match="interrupted by test"):
            rotate("--batch-size", "1")
        interrupted = raw_names()
        # then the batches before it are committed under the new key, the failing one untouched
        assert interrupted[last_id] == before[last_id]
        assert sum(interrupted[pk] != before[pk] for pk in before) == 3

        # when the cause is gone and the command runs again, it finishes the rest only
        drop_interruption()
        output = rotate("--batch-size", "1")

    assert "health_profiles.HealthEntry" in output
    entry_line = next(line for line in output.splitlines() if line.startswith("health_profiles.HealthEntry"))
    left = len(ENTRY_VALUES[last_category])  # every value of the interrupted entry, and nothing else
    assert f"re-encrypted {left} values, {15 - left} already current" in entry_line
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert len(names()) == 4


def test_values_under_an_unknown_key_are_reported_and_fail_the_run(written_with_old_key, patient_ayse):
    with override_settings(CRYPTOGRAPHY_KEY=OTHER, CRYPTOGRAPHY_OLD_KEYS=[]):
        stray = add_entry(patient_ayse, "condition", name="Stray-ZQX")

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        with pytest.raises(CommandError, match="CRYPTOGRAPHY_OLD_KEYS"):
            rotate()
        # everything else was rotated
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert len(HealthEntry.objects.exclude(id=stray.id)) == 4


def test_changing_secret_key_alone_leaves_health_data_readable(patient_ayse):
    full_profile(patient_ayse)

    with override_settings(SECRET_KEY="a-completely-different-secret-key-0123456789-xyz"):
        assert names() == {values["name"] for values in ENTRY_VALUES.values()}
        assert HealthEntry.objects.get(category="treatment").ended_on == ENTRY_VALUES["treatment"]["ended_on"]
