"""TC Kimlik No: checksum-validated, encrypted at rest, unique through a keyed hash, shown masked,
and readable whatever SECRET_KEY is (its key is CRYPTOGRAPHY_KEY)."""

import pytest
from django.db import connection
from django.test import override_settings

from accounts.models import User
from medplatform.encryption import DecryptionError

pytestmark = pytest.mark.django_db

VALID = "10000000146"  # passes the TC Kimlik No checksum
OTHER_VALID = "12345678950"
BAD_CHECKSUM = "10000000147"


def _raw_row(user: User) -> tuple[bytes, str]:
    """The national id columns exactly as the database holds them, past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id, national_id_hash FROM accounts_user WHERE email = %s", [user.email])
        stored, hashed = cursor.fetchone()
    return bytes(stored), hashed


def test_a_bad_checksum_is_refused_with_the_field_named(as_user, patient_ayse):
    response = as_user(patient_ayse).patch("/api/v1/me/", {"national_id": BAD_CHECKSUM}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "national_id" in body["fields"]
    assert BAD_CHECKSUM not in response.content.decode()
    patient_ayse.refresh_from_db()
    assert patient_ayse.national_id is None


@pytest.mark.parametrize("value", ["1000000014", "100000001460", "1000000014a", "00000000146"])
def test_malformed_numbers_are_refused(as_user, patient_ayse, value):
    response = as_user(patient_ayse).patch("/api/v1/me/", {"national_id": value}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_a_valid_number_is_shown_masked(as_user, patient_ayse):
    response = as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["national_id"] == "*******0146"
    assert as_user(patient_ayse).get("/api/v1/me/").json()["national_id"] == "*******0146"
    assert VALID not in as_user(patient_ayse).get("/api/v1/me/").content.decode()


def test_the_national_id_is_not_in_the_database_in_plain_text(as_user, patient_ayse):
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    stored, hashed = _raw_row(patient_ayse)

    assert stored and VALID.encode() not in stored
    assert VALID not in stored.decode("latin-1")
    assert hashed and hashed != VALID and VALID not in hashed
    patient_ayse.refresh_from_db()
    assert patient_ayse.national_id == VALID  # the ORM decrypts it


def test_two_users_cannot_hold_the_same_national_id(as_user, patient_ayse, patient_mehmet):
    first = as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")
    second = as_user(patient_mehmet).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    assert first.status_code == 200
    assert second.status_code == 400
    assert "national_id" in second.json()["fields"]
    patient_mehmet.refresh_from_db()
    assert patient_mehmet.national_id is None


def test_the_uniqueness_hash_is_the_same_for_the_same_number_and_differs_between_numbers(
    as_user, patient_ayse, patient_mehmet
):
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")
    as_user(patient_mehmet).patch("/api/v1/me/", {"national_id": OTHER_VALID}, format="json")
    ayse_stored, ayse_hash = _raw_row(patient_ayse)
    mehmet_stored, mehmet_hash = _raw_row(patient_mehmet)

    assert ayse_hash != mehmet_hash
    assert ayse_stored != mehmet_stored
    # setting the same number again keeps the same hash: the hash is deterministic, the ciphertext is not
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")
    again_stored, again_hash = _raw_row(patient_ayse)
    assert again_hash == ayse_hash
    assert again_stored != ayse_stored


def test_a_user_can_clear_their_national_id(as_user, patient_ayse):
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    response = as_user(patient_ayse).patch("/api/v1/me/", {"national_id": ""}, format="json")

    assert response.status_code == 200
    assert response.json()["national_id"] is None
    patient_ayse.refresh_from_db()
    assert (patient_ayse.national_id, patient_ayse.national_id_hash) == (None, None)


def test_changing_secret_key_does_not_lose_the_national_id(as_user, patient_ayse):
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    with override_settings(SECRET_KEY="another-secret-key-entirely-" + "x" * 40):
        assert User.objects.get(pk=patient_ayse.pk).national_id == VALID


def test_the_national_id_is_encrypted_under_cryptography_key(as_user, patient_ayse):
    as_user(patient_ayse).patch("/api/v1/me/", {"national_id": VALID}, format="json")

    with override_settings(CRYPTOGRAPHY_KEY="not-the-key-it-was-written-with-" + "y" * 40):
        with pytest.raises(DecryptionError):
            User.objects.get(pk=patient_ayse.pk)
