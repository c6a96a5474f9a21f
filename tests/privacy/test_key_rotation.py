"""Key rotation: data written under an old key is readable during the rotation and after it; the
command re-wraps every person's data key and re-encrypts only values without an owner (the canary)
or still under a master key, and SECRET_KEY plays no part in encryption."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import override_settings

from health_profiles.models import HealthEntry
from medplatform.encryption import DecryptionError, encrypt_value, envelope_key_id, is_enveloped
from privacy.management.commands.rotate_encryption_key import encrypted_columns
from privacy.models import EncryptionCanary, PatientDataKey
from tests.health_profiles.scenario import ENTRY_VALUES, add_entry, full_profile, grant_storage

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


def raw_wrapped_keys() -> dict:
    return {pk: bytes(wrapped) for pk, wrapped in PatientDataKey.objects.values_list("pk", "wrapped_key")}


def test_old_key_data_reads_during_rotation_and_after_it_with_the_new_key_alone(written_with_old_key):
    expected = {values["name"] for values in ENTRY_VALUES.values()}
    before = raw_names()
    keys_before = raw_wrapped_keys()

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        assert names() == expected  # readable while the rotation has not run yet
        output = rotate()
        assert names() == expected

    # ayse's two data keys (health profile, account) are re-wrapped; of the values only the canary,
    # which has no owner, is re-encrypted: the 15 entry values and the national id stay as they are
    assert "data keys: re-wrapped 2, 0 already current, 0 undecryptable, 0 destroyed" in output
    assert "re-encrypted 1 values; 0 already current; 0 undecryptable." in output
    assert raw_names() == before
    keys_after = raw_wrapped_keys()
    assert set(keys_after) == set(keys_before) and all(keys_after[pk] != keys_before[pk] for pk in keys_before)
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert names() == expected
        written_with_old_key.refresh_from_db()
        assert written_with_old_key.national_id == "10000000146"
        assert EncryptionCanary.objects.get().value == EncryptionCanary.PLAINTEXT
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]), pytest.raises(DecryptionError):
        names()


def test_a_dry_run_counts_and_writes_nothing(written_with_old_key):
    before = raw_names()
    keys_before = raw_wrapped_keys()

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        output = rotate("--dry-run")

    assert "data keys: would re-wrap 2" in output
    assert "Dry run: would re-encrypt 1 values" in output
    assert "health_profiles.HealthEntry" in output and "4 rows" in output
    assert raw_names() == before and raw_wrapped_keys() == keys_before


def test_a_second_run_only_touches_what_is_still_under_an_old_key(written_with_old_key, patient_ayse, patient_mehmet):
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        rotate()
        again = rotate()
    assert "data keys: re-wrapped 0, 2 already current" in again
    assert "re-encrypted 0 values" in again

    # a process still on the old key alone cannot write for ayse (her keys are wrapped under the
    # new one) rather than write what nobody could read; for a new patient it makes a key wrapped
    # under the old master, which the next run re-wraps
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        with pytest.raises(DecryptionError):
            add_entry(patient_ayse, "medication", name="Late-write-ZQX")
        grant_storage(patient_mehmet)
        add_entry(patient_mehmet, "medication", name="Late-write-ZQX")
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        output = rotate()
        assert "Late-write-ZQX" in names()
    assert "data keys: re-wrapped 1, 2 already current" in output
    assert "re-encrypted 0 values" in output


def test_values_from_before_envelope_encryption_move_under_their_owners_data_key(patient_ayse):
    grant_storage(patient_ayse)
    entry = add_entry(patient_ayse, "allergy", name="Penisilin-ZQX")
    # a value as the earlier version wrote it: under the master key directly
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE health_profiles_healthentry SET name = %s WHERE id = %s",
            [encrypt_value("Penisilin-ZQX"), entry.pk.hex if connection.vendor == "sqlite" else entry.pk],
        )
    assert not is_enveloped(raw_names()[entry.pk])
    assert HealthEntry.objects.get(pk=entry.pk).name == "Penisilin-ZQX"  # still readable

    output = rotate()
    again = rotate()

    assert "moved 1 values from a master key to their owner's data key." in output
    assert "moved 0 values" in again
    token = raw_names()[entry.pk]
    assert is_enveloped(token)
    assert envelope_key_id(token) == PatientDataKey.objects.get(patient=patient_ayse, scope="health_profile").pk
    assert HealthEntry.objects.get(pk=entry.pk).name == "Penisilin-ZQX"


def refuse_updates_of(key_id) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_interrupt BEFORE UPDATE ON privacy_patientdatakey "
                f"WHEN OLD.id = '{key_id.hex}' BEGIN SELECT RAISE(ABORT, 'interrupted by test'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_interrupt() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'interrupted by test'; "
                "END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_interrupt BEFORE UPDATE ON privacy_patientdatakey FOR EACH ROW "
                f"WHEN (OLD.id = '{key_id}') EXECUTE FUNCTION test_interrupt()"
            )


def drop_interruption() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER test_interrupt")
        else:
            cursor.execute("DROP TRIGGER test_interrupt ON privacy_patientdatakey")


def test_an_interrupted_rotation_keeps_finished_batches_and_resumes(written_with_old_key):
    # given a failure on the last data key (in id order), in the middle of the run
    last_id = PatientDataKey.objects.order_by("pk").values_list("pk", flat=True).last()
    before = raw_wrapped_keys()
    refuse_updates_of(last_id)

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        with pytest.raises(DatabaseError, match="interrupted by test"):
            rotate("--batch-size", "1")
        interrupted = raw_wrapped_keys()
        # then the batches before it are committed under the new key, the failing one untouched
        assert interrupted[last_id] == before[last_id]
        assert sum(interrupted[pk] != before[pk] for pk in before) == len(before) - 1

        # when the cause is gone and the command runs again, it finishes the rest only
        drop_interruption()
        output = rotate("--batch-size", "1")

    assert f"data keys: re-wrapped 1, {len(before) - 1} already current" in output
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert len(names()) == 4


def test_data_keys_under_an_unknown_key_are_reported_and_fail_the_run(written_with_old_key, patient_mehmet):
    grant_storage(patient_mehmet)
    with override_settings(CRYPTOGRAPHY_KEY=OTHER, CRYPTOGRAPHY_OLD_KEYS=[]):
        stray = add_entry(patient_mehmet, "condition", name="Stray-ZQX")

    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[OLD]):
        with pytest.raises(CommandError, match="CRYPTOGRAPHY_OLD_KEYS"):
            rotate()
        # everything else was rotated
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert len(HealthEntry.objects.exclude(id=stray.id)) == 4
        with pytest.raises(DecryptionError):
            HealthEntry.objects.get(id=stray.id)


def test_changing_secret_key_alone_leaves_health_data_readable(patient_ayse):
    full_profile(patient_ayse)

    with override_settings(SECRET_KEY="a-completely-different-secret-key-0123456789-xyz"):
        assert names() == {values["name"] for values in ENTRY_VALUES.values()}
        assert HealthEntry.objects.get(category="treatment").ended_on == ENTRY_VALUES["treatment"]["ended_on"]
