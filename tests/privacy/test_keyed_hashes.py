"""Keyed hashes across a key rotation, and derived keys cached per process.

The national-id hash and the idempotency body hash are HMACs keyed from CRYPTOGRAPHY_KEY. A
rotation recomputes the national-id hashes from the decrypted numbers; look-ups match the hash
under every configured key, so nothing breaks before (or without) that; the idempotency hashes
hash a body that is not stored, so they keep matching under the old key for their 24 hours.
"""

import io
import secrets
from unittest import mock

import pytest
from cryptography.hazmat.primitives.kdf import pbkdf2
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User
from appointments.demo import create_demo_schedule
from appointments.models import Appointment, IdempotencyRecord
from medplatform.encryption import keyed_hash
from tests.appointments.conftest import at, grant_booking_consent, working_day

pytestmark = pytest.mark.django_db

OLD = "old-cryptography-key-for-tests-0123456789abcdef"
NEW = "new-cryptography-key-for-tests-fedcba9876543210"
NATIONAL_ID = "10000000146"
DURING_ROTATION = {"CRYPTOGRAPHY_KEY": NEW, "CRYPTOGRAPHY_OLD_KEYS": [OLD]}
AFTER_ROTATION = {"CRYPTOGRAPHY_KEY": NEW, "CRYPTOGRAPHY_OLD_KEYS": []}


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def set_national_id(as_user, user, number=NATIONAL_ID):
    return as_user(user).patch("/api/v1/me/", {"national_id": number}, format="json")


def stored_hash(user) -> str:
    return User.objects.values_list("national_id_hash", flat=True).get(pk=user.pk)


def test_after_a_rotation_a_second_account_cannot_take_an_existing_national_id(as_user, patient_ayse, patient_mehmet):
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        assert set_national_id(as_user, patient_ayse).status_code == 200

    with override_settings(**DURING_ROTATION):
        before_the_command = set_national_id(as_user, patient_mehmet)
        output = rotate()
    with override_settings(**AFTER_ROTATION):
        after_the_command = set_national_id(as_user, patient_mehmet)

    assert before_the_command.status_code == 400  # matched under the old key
    assert after_the_command.status_code == 400  # recomputed under the new key
    assert list(after_the_command.json()["fields"]) == ["national_id"]
    assert "recomputed 1 keyed hashes under CRYPTOGRAPHY_KEY." in output
    with override_settings(**AFTER_ROTATION):
        assert stored_hash(patient_ayse) == keyed_hash(NATIONAL_ID, purpose="national_id")
    patient_mehmet.refresh_from_db()
    assert patient_mehmet.national_id_hash is None


def test_the_owner_can_save_their_own_national_id_again_during_a_rotation(as_user, patient_ayse):
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        set_national_id(as_user, patient_ayse)

    with override_settings(**DURING_ROTATION):
        again = set_national_id(as_user, patient_ayse)
        assert stored_hash(patient_ayse) == keyed_hash(NATIONAL_ID, purpose="national_id")  # written under NEW

    assert again.status_code == 200


def test_the_rotation_recomputes_hashes_of_values_already_under_the_new_key(as_user, patient_ayse):
    # given a row whose number is under the new key but whose hash is not (an earlier version of
    # the command re-encrypted values and left their hashes alone)
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        set_national_id(as_user, patient_ayse)
        old_hash = stored_hash(patient_ayse)
    with override_settings(**DURING_ROTATION):
        patient_ayse.refresh_from_db()
        patient_ayse.save(update_fields=["national_id"])  # written again, hash untouched
        assert stored_hash(patient_ayse) == old_hash

        dry = rotate("--dry-run")
        assert stored_hash(patient_ayse) == old_hash
        output = rotate()
        again = rotate()

    assert "would recompute 1 keyed hashes" in dry
    user_line = next(line for line in output.splitlines() if line.startswith("accounts.User"))
    # the number is under ayse's own data key: the rotation re-wraps that key and leaves the value
    assert "re-encrypted 0 values, 0 already current, 0 undecryptable, 1 under data keys (untouched)" in user_line
    assert "recomputed 1 keyed hashes (national_id_hash)" in user_line
    assert "recomputed 0 keyed hashes under CRYPTOGRAPHY_KEY." in again
    with override_settings(**AFTER_ROTATION):
        assert stored_hash(patient_ayse) == keyed_hash(NATIONAL_ID, purpose="national_id") != old_hash


@pytest.fixture
def booking(patient_ayse, doctor_x, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    start = at(working_day(), 10)
    return {"doctor": str(doctor_x.id), "start": start.isoformat(), "visit_reason": "baş ağrısı"}


def post_booking(client, body, key):
    return client.post("/api/v1/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_idempotent_retry_still_replays_after_a_rotation(as_user, patient_ayse, booking):
    client = as_user(patient_ayse)
    with override_settings(CRYPTOGRAPHY_KEY=OLD, CRYPTOGRAPHY_OLD_KEYS=[]):
        first = post_booking(client, booking, "retry-1")

    with override_settings(**DURING_ROTATION):
        output = rotate()
        retry = post_booking(client, booking, "retry-1")
        other_body = post_booking(client, {**booking, "visit_reason": "başka"}, "retry-1")

    assert first.status_code == 201
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert other_body.status_code == 400  # the key is still bound to the first body
    assert Appointment.objects.count() == IdempotencyRecord.objects.count() == 1
    # the body is not stored, so the command cannot recompute its hash and says so
    assert "appointments.IdempotencyRecord (request_hash): 1 keyed hashes of data that is not stored" in output
    assert "keep the old keys until" in output


def test_a_booking_under_the_new_key_stores_the_new_key_hash(as_user, patient_ayse, booking):
    with override_settings(**DURING_ROTATION):
        response = post_booking(as_user(patient_ayse), booking, "new-1")

    assert response.status_code == 201
    with override_settings(**AFTER_ROTATION):
        assert post_booking(as_user(patient_ayse), booking, "new-1").json()["id"] == response.json()["id"]


class CountingPBKDF2:
    """Wraps the `cryptography` PBKDF2 primitive: counts derivations, still derives for real."""

    def __init__(self):
        self.calls = 0
        self.real = pbkdf2.PBKDF2HMAC

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.real(*args, **kwargs)


def test_a_warm_booking_performs_no_pbkdf2_derivation(as_user, patient_ayse, doctor_x, booking):
    import hashlib

    client = as_user(patient_ayse)
    warm_up = post_booking(client, booking, "warm-1")  # the process derives its keys once
    counting = CountingPBKDF2()
    real_hashlib_pbkdf2 = hashlib.pbkdf2_hmac
    hashlib_calls = []

    def counting_hashlib_pbkdf2(*args, **kwargs):
        hashlib_calls.append(args[0] if args else kwargs.get("hash_name"))
        return real_hashlib_pbkdf2(*args, **kwargs)

    with (
        mock.patch.object(pbkdf2, "PBKDF2HMAC", counting),
        mock.patch.object(hashlib, "pbkdf2_hmac", counting_hashlib_pbkdf2),
    ):
        warm = post_booking(client, {**booking, "start": at(working_day(14), 11).isoformat()}, "warm-2")
        warm_calls = counting.calls
        # the wrapper does see derivations: a key this process has not used yet needs them
        # (the key in use stays listed as old: the patient's data key is wrapped under it)
        with override_settings(
            CRYPTOGRAPHY_KEY=f"fresh-{secrets.token_urlsafe(32)}", CRYPTOGRAPHY_OLD_KEYS=[settings.CRYPTOGRAPHY_KEY]
        ):
            cold = post_booking(client, {**booking, "start": at(working_day(21), 14).isoformat()}, "cold-1")

    assert (warm_up.status_code, warm.status_code, cold.status_code) == (201, 201, 201)
    assert warm_calls == 0
    assert hashlib_calls == []
    # the new key's lookup:idempotency key and its data-key wrapping key (tried first to unwrap the
    # patient's data key); the visit reason goes under that data key, which needs no derivation
    assert counting.calls == 2
