"""Withdrawal cascades: each is done when the request returns, leaves the proof and ends access."""

import pytest
from django.db import DatabaseError, connection

from health_profiles.models import HealthEntry, ShareGrant
from privacy.models import AuditEntry, ConsentEvent, ConsentText, Purpose
from privacy.services import consent_withdraw
from tests.health_profiles.scenario import ALL_CATEGORIES, full_profile, grant_storage, share_with

pytestmark = pytest.mark.django_db


def profile_url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/health-profile/"


def withdraw(client, grant):
    return client.post(f"/api/v1/consents/{grant.id}/withdraw/")


def test_withdrawing_storage_deletes_every_entry_and_share_and_ends_access(
    as_user, patient_ayse, patient_mehmet, doctor_x, doctor_y
):
    # given two shares of Ayşe's profile and Mehmet's own profile
    storage = full_profile(patient_ayse) and ConsentEvent.objects.get(
        subject=patient_ayse, purpose=Purpose.HEALTH_PROFILE_STORAGE
    )
    share_x = share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    share_with(patient_ayse, doctor_y, categories=["allergy"])
    full_profile(patient_mehmet)
    share_with(patient_mehmet, doctor_x, categories=ALL_CATEGORIES)
    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 4
    assert ShareGrant.objects.filter(patient=patient_ayse).count() == 2

    # when Ayşe withdraws the storage consent
    response = withdraw(as_user(patient_ayse), storage)

    # then her rows are gone, Mehmet's are not, and the doctor gets 404 at once
    assert response.status_code == 200
    assert response.json()["withdrawn_at"] is not None
    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 0
    assert ShareGrant.objects.filter(patient=patient_ayse).count() == 0
    assert HealthEntry.objects.filter(patient=patient_mehmet).count() == 4
    assert ShareGrant.objects.filter(patient=patient_mehmet).count() == 1
    assert as_user(doctor_x.user).get(profile_url(patient_ayse)).status_code == 404
    assert as_user(doctor_x.user).get("/api/v1/doctor/shared-profiles/").json()["count"] == 1
    # and the proof is kept: the grants, their withdrawals and the audit entry with counts
    assert ConsentEvent.objects.filter(id=storage.id).exists()
    assert ConsentEvent.objects.filter(grant=storage, action="withdraw").exists()
    assert ConsentEvent.objects.filter(id=share_x.id).exists()
    assert ConsentEvent.objects.filter(grant=share_x, action="withdraw", channel="cascade").exists()
    audit = AuditEntry.objects.get(action="consent_withdrawn:health_profile_storage")
    assert audit.patient == patient_ayse
    assert {key: audit.metadata[key] for key in ("entries_deleted", "share_grants_deleted")} == {
        "entries_deleted": 4,
        "share_grants_deleted": 2,
    }
    assert AuditEntry.objects.filter(action="consent_withdrawn:health_profile_share", patient=patient_ayse).count() == 2


def test_withdrawing_storage_leaves_no_share_consent_listed_as_given(as_user, patient_ayse, doctor_x):
    storage = grant_storage(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    client = as_user(patient_ayse)

    withdraw(client, storage)

    consents = client.get("/api/v1/consents/").json()["results"]
    assert [(c["purpose"], c["withdrawn_at"] is not None) for c in consents] == [
        ("health_profile_share", True),
        ("health_profile_storage", True),
    ]


def test_withdrawing_a_share_ends_only_that_doctors_access(as_user, patient_ayse, doctor_x, doctor_y):
    full_profile(patient_ayse)
    share_x = share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    share_with(patient_ayse, doctor_y, categories=ALL_CATEGORIES)

    response = withdraw(as_user(patient_ayse), share_x)

    assert response.status_code == 200
    assert ShareGrant.objects.filter(consent=share_x).count() == 0
    assert ShareGrant.objects.filter(doctor=doctor_y).count() == 1
    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 4
    assert as_user(doctor_x.user).get(profile_url(patient_ayse)).status_code == 404
    assert as_user(doctor_y.user).get(profile_url(patient_ayse)).status_code == 200
    assert ConsentEvent.objects.filter(id=share_x.id).exists()
    assert ConsentEvent.objects.filter(grant=share_x, action="withdraw").exists()
    audit = AuditEntry.objects.get(action="consent_withdrawn:health_profile_share")
    assert audit.metadata["share_grants_deleted"] == 1
    assert audit.metadata["consent"] == str(share_x.id)


def test_a_patient_cannot_withdraw_another_patients_consent(as_user, patient_ayse, patient_mehmet):
    storage = full_profile(patient_ayse) and ConsentEvent.objects.get(subject=patient_ayse)

    response = withdraw(as_user(patient_mehmet), storage)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 4


def refuse_deleting_entries() -> None:
    """A database trigger that makes the entries delete fail: a real failure inside the cascade."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_refuse BEFORE DELETE ON health_profiles_healthentry "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by test'; "
                "END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse BEFORE DELETE ON health_profiles_healthentry "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
            )


def test_a_failing_cascade_rolls_the_whole_withdrawal_back(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    storage = ConsentEvent.objects.get(subject=patient_ayse, purpose=Purpose.HEALTH_PROFILE_STORAGE)
    share = share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    refuse_deleting_entries()

    with pytest.raises(DatabaseError, match="refused by test"):
        consent_withdraw(subject=patient_ayse, grant_id=storage.id)

    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 4
    assert ShareGrant.objects.filter(consent=share).count() == 1
    assert not ConsentEvent.objects.filter(action="withdraw").exists()
    assert not AuditEntry.objects.filter(action__startswith="consent_withdrawn").exists()


def test_withdrawing_an_outdated_storage_grant_keeps_data_stored_under_the_newer_one(as_user, patient_ayse):
    old = full_profile(patient_ayse) and ConsentEvent.objects.get(subject=patient_ayse)
    for language in ("tr", "en"):
        ConsentText.objects.create(purpose=Purpose.HEALTH_PROFILE_STORAGE, version=2, language=language, text="v2")
    grant_storage(patient_ayse)

    response = withdraw(as_user(patient_ayse), old)

    assert response.status_code == 200
    assert HealthEntry.objects.filter(patient=patient_ayse).count() == 4
