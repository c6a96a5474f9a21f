"""Crypto-shredding: each person's encrypted values are under their own data key, wrapped by the
master key; erasure and the withdrawal of the storage consent destroy that key, so every copy of the
values (a backup taken before) is unreadable with the live keys, while other people's data still
decrypts; and a master-key rotation re-wraps the data keys without rewriting a single value row."""

import os
import re
import shutil
import subprocess
import uuid
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from appointments.models import Appointment
from health_profiles.models import HealthEntry
from medplatform import encryption
from medplatform.encryption import DataKeyDestroyed, DecryptionError, decrypt_any, is_enveloped
from privacy.management.commands.rotate_encryption_key import _owner_column, encrypted_columns
from privacy.models import DataSubjectRequest, PatientDataKey
from privacy.services import consent_withdraw
from privacy.subject_rights import account_erase, privacy_request_create
from tests.factories import TEST_PASSWORD
from tests.health_profiles.scenario import ENTRY_VALUES, add_entry, appointment_row, full_profile, grant_storage

NEW = "rotated-master-key-for-the-shredding-test-0123456789"


def personal_data(patient, doctor, clinic, *, number: str, reason: str, days_ahead: int = 3) -> dict:
    """A health profile, a national id, a visit reason and exam type, a data-subject request."""
    full_profile(patient)
    patient.national_id = number
    patient.save(update_fields=["national_id"])
    appointment_row(patient, doctor, clinic, days_ahead=days_ahead, visit_reason=reason, exam_type=f"exam-{reason}")
    privacy_request_create(subject=patient, type=DataSubjectRequest.Type.ACCESS, details=f"details-{reason}")
    values = {value for entry in ENTRY_VALUES.values() for value in entry.values()}
    return {
        *[v.isoformat() if hasattr(v, "isoformat") else v for v in values],
        number,
        reason,
        f"exam-{reason}",
        f"details-{reason}",
    }


def owned_tokens(cursor) -> list[tuple[str, bytes]]:
    """(owner id, stored value) of every owned encrypted column, read from `cursor`'s database."""
    found = []
    for model, fields in encrypted_columns():
        for f in fields:
            owner = _owner_column(model, f)
            if owner is None:
                continue
            owner_sql = connection.ops.quote_name(model._meta.pk.column) if owner == "self" else owner
            table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(f.column)
            cursor.execute(f"SELECT {owner_sql}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
            found += [(str(uuid.UUID(str(owner_id))), bytes(value)) for owner_id, value in cursor.fetchall()]
    return found


def as_text(value) -> str:
    return value if isinstance(value, str) else str(value)


# --- the live database: what destruction does (embedded and PostgreSQL) ---


@pytest.mark.django_db
def test_values_are_under_the_owners_own_data_key_and_withdrawing_storage_destroys_the_profile_key(
    patient_ayse, patient_mehmet, doctor_x, clinic_x
):
    personal_data(patient_ayse, doctor_x, clinic_x, number="10000000146", reason="reason-ayse")
    grant_storage(patient_mehmet)
    add_entry(patient_mehmet, "allergy")
    keys = {key.scope: key for key in PatientDataKey.objects.filter(patient=patient_ayse)}
    with connection.cursor() as cursor:
        tokens = owned_tokens(cursor)

    assert set(keys) == {"account", "health_profile"}
    # the unwrapped key served one save and is not left on the instance (which may be cached)
    entry = HealthEntry.objects.filter(patient=patient_ayse).first()
    entry.save()
    assert "_data_keys" not in entry.__dict__
    assert all(is_enveloped(token) for _owner, token in tokens)
    ayse_keys = {encryption.envelope_key_id(token) for owner, token in tokens if owner == str(patient_ayse.pk)}
    assert ayse_keys == {keys["account"].pk, keys["health_profile"].pk}

    storage = patient_ayse.consent_events.get(purpose="health_profile_storage", action="grant")
    consent_withdraw(subject=patient_ayse, grant_id=storage.id)

    keys["health_profile"].refresh_from_db()
    assert keys["health_profile"].wrapped_key is None and keys["health_profile"].destroyed_at is not None
    assert PatientDataKey.objects.get(pk=keys["account"].pk).wrapped_key is not None  # the rest stays readable
    assert Appointment.objects.get(patient=patient_ayse).visit_reason == "reason-ayse"
    # a new consent and a new entry start a new key
    grant_storage(patient_ayse)
    add_entry(patient_ayse, "allergy", name="Yeni-ZQX")
    assert HealthEntry.objects.get(patient=patient_ayse).name == "Yeni-ZQX"
    assert PatientDataKey.objects.filter(patient=patient_ayse, scope="health_profile").count() == 2


@pytest.mark.django_db
def test_erasure_destroys_every_key_of_the_account_and_what_is_left_reads_as_gone(
    patient_ayse, patient_mehmet, doctor_x, clinic_x
):
    personal_data(patient_ayse, doctor_x, clinic_x, number="10000000146", reason="reason-ayse")
    personal_data(patient_mehmet, doctor_x, clinic_x, number="10000000078", reason="reason-mehmet", days_ahead=5)

    account_erase(user=patient_ayse, password=TEST_PASSWORD)

    assert list(PatientDataKey.objects.filter(patient=patient_ayse).values_list("wrapped_key", flat=True)) == [
        None,
        None,
    ]
    # the request's text, kept until its retention ends, is shredded with the key
    assert DataSubjectRequest.objects.get(subject=patient_ayse).details == ""
    assert DataSubjectRequest.objects.get(subject=patient_mehmet).details == "details-reason-mehmet"
    assert Appointment.objects.get(patient=patient_mehmet).visit_reason == "reason-mehmet"


# --- a backup taken before the erasure (PostgreSQL, real pg_dump and pg_restore) ---


def pg_tool(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    for candidate in (f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(f"{name} for PostgreSQL {major} is not installed")


def libpq_args() -> list[str]:
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    return args + (["-U", db["USER"]] if db["USER"] else [])


def libpq_env() -> dict:
    password = connection.settings_dict.get("PASSWORD")
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


@pytest.fixture
def scratch_database():
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count_updates():
    """Collect every UPDATE statement this connection runs, by table."""
    updates: list[tuple[str, str]] = []

    def wrapper(execute, sql, params, many, context):
        match = re.match(r'\s*UPDATE\s+"?([a-z_]+)"?\s+SET\s+(.*?)\s+WHERE', sql, re.I | re.S)
        if match:
            updates.append((match.group(1), match.group(2)))
        return execute(sql, params, many, context)

    return updates, wrapper


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_from_before_an_erasure_holds_nothing_readable_of_that_patient_and_rotation_rewrites_no_value(
    patient_ayse, patient_mehmet, doctor_x, clinic_x, tmp_path, scratch_database
):
    personal_data(patient_ayse, doctor_x, clinic_x, number="10000000146", reason="reason-ayse")
    mehmet_values = personal_data(
        patient_mehmet, doctor_x, clinic_x, number="10000000078", reason="reason-mehmet", days_ahead=5
    )
    db = connection.settings_dict
    dump = tmp_path / "before-erasure.dump"

    # the nightly backup, as docs/encryption.md prescribes: the data, without the data keys' rows
    subprocess.run(
        [
            pg_tool("pg_dump"),
            *libpq_args(),
            "-Fc",
            "--exclude-table-data=privacy_patientdatakey",
            "-f",
            str(dump),
            db["NAME"],
        ],
        check=True,
        env=libpq_env(),
        capture_output=True,
    )
    account_erase(user=patient_ayse, password=TEST_PASSWORD)
    subprocess.run(
        [pg_tool("pg_restore"), *libpq_args(), "--no-owner", "-d", scratch_database, str(dump)],
        check=True,
        env=libpq_env(),
        capture_output=True,
    )

    # the erased patient's key rows are gone from the live database (overwritten, stamped)
    live_keys = PatientDataKey.objects.filter(patient=patient_ayse)
    assert live_keys.count() == 2 and all(k.wrapped_key is None and k.destroyed_at for k in live_keys)
    encryption._unwrapped.clear()  # nothing this process remembers: the live key table alone
    with (
        psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"] or None,
            password=db.get("PASSWORD") or None,
            dbname=scratch_database,
        ) as restored,
        restored.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM privacy_patientdatakey")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM health_profiles_healthentry")
        assert cursor.fetchone()[0] == 8  # the backup does hold both profiles
        tokens = owned_tokens(cursor)

    ayse_tokens = [token for owner, token in tokens if owner == str(patient_ayse.pk)]
    mehmet_tokens = [token for owner, token in tokens if owner == str(patient_mehmet.pk)]
    # 15 entry values, the national id, the visit reason and exam type, the request's text
    assert len(ayse_tokens) == len(mehmet_tokens) == 19
    failures = 0
    for token in ayse_tokens:
        with pytest.raises(DataKeyDestroyed):
            decrypt_any(token)
        failures += 1
    assert failures == 19
    readable = {as_text(decrypt_any(token)) for token in mehmet_tokens}
    assert readable == {as_text(value) for value in mehmet_values}
    raw = dump.read_bytes()
    assert b"reason-ayse" not in raw and b"10000000146" not in raw and b"details-reason-ayse" not in raw

    # a master-key rotation re-wraps mehmet's two live keys and rewrites no value row
    updates, wrapper = count_updates()
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[settings.CRYPTOGRAPHY_KEY]):
        out = StringIO()
        with connection.execute_wrapper(wrapper):
            call_command("rotate_encryption_key", stdout=out)
    by_table: dict[str, list[str]] = {}
    for table, assignments in updates:
        by_table.setdefault(table, []).append(assignments)
    assert "data keys: re-wrapped 2, 0 already current, 0 undecryptable, 2 destroyed" in out.getvalue()
    assert len(by_table.pop("privacy_patientdatakey")) == 2
    assert len(by_table.pop("privacy_encryptioncanary", [])) <= 1  # the canary has no owner: re-encrypted
    # mehmet's national-id hash is keyed from the master key: recomputed, the number itself untouched
    assert by_table.pop("accounts_user") == ['"national_id_hash" = %s']
    assert by_table == {}  # no health entry, appointment or request row was written
    with override_settings(CRYPTOGRAPHY_KEY=NEW, CRYPTOGRAPHY_OLD_KEYS=[]):
        encryption._unwrapped.clear()
        assert {e.name for e in HealthEntry.objects.filter(patient=patient_mehmet)} == {
            values["name"] for values in ENTRY_VALUES.values()
        }
        assert Appointment.objects.get(patient=patient_mehmet).visit_reason == "reason-mehmet"
    with override_settings(CRYPTOGRAPHY_KEY=settings.CRYPTOGRAPHY_KEY, CRYPTOGRAPHY_OLD_KEYS=[]):
        encryption._unwrapped.clear()
        with pytest.raises(DecryptionError):
            list(HealthEntry.objects.filter(patient=patient_mehmet))


@given(st.one_of(st.text(), st.none(), st.integers(), st.lists(st.text(max_size=5), max_size=3)))
@hypothesis_settings(max_examples=300, deadline=None)
def test_a_sealed_value_opens_to_itself_whatever_it_holds(value):
    # Strings without an escape are read without the json module (encryption._from_plain): quotes,
    # backslashes, control and non-ASCII characters, and values that are not strings, take the other way.
    key_id, data_key = uuid.uuid4(), encryption.new_data_key()

    opened = encryption.open_sealed(encryption.seal(key_id, data_key, value), data_key)

    assert opened == value and type(opened) is type(value)
