from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from privacy.models import AuditEntry, ConsentEvent, DataSubjectRequest
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _grant(client, purpose):
    response = client.post("/api/v1/consents/", {"purpose": purpose, "text_version": 1})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_privacy_request_is_due_in_30_days(as_user, patient_ayse):
    response = as_user(patient_ayse).post("/api/v1/privacy/requests/", {"type": "access", "details": "all of it"})

    assert response.status_code == 201
    assert response.json()["due_date"] == (timezone.now() + timedelta(days=30)).date().isoformat()
    assert response.json()["status"] == "open"


def test_privacy_requests_are_listed_to_their_owner_only(as_user, patient_ayse, patient_mehmet):
    as_user(patient_ayse).post("/api/v1/privacy/requests/", {"type": "erasure"})

    mine = as_user(patient_ayse).get("/api/v1/privacy/requests/").json()
    theirs = as_user(patient_mehmet).get("/api/v1/privacy/requests/").json()

    assert mine["count"] == 1
    assert theirs["count"] == 0


def test_an_unknown_request_type_is_refused_and_nothing_is_stored(as_user, patient_ayse):
    response = as_user(patient_ayse).post("/api/v1/privacy/requests/", {"type": "everything"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert DataSubjectRequest.objects.count() == 0


def test_the_summary_names_each_consent_and_its_legal_basis(as_user, patient_ayse):
    client = as_user(patient_ayse)
    _grant(client, "marketing_messages")

    summary = client.get("/api/v1/privacy/summary/").json()

    assert [c["purpose"] for c in summary["consents"]] == ["marketing_messages"]
    assert "KVKK" in summary["consents"][0]["legal_basis"]
    assert summary["processing"]


def test_erasure_with_a_wrong_password_changes_nothing(as_user, patient_ayse):
    response = as_user(patient_ayse).post("/api/v1/me/erase/", {"password": "not-the-password"})

    patient_ayse.refresh_from_db()
    assert response.status_code == 400
    assert patient_ayse.is_active and patient_ayse.email == "ayse@example.test"


def test_erasure_withdraws_consents_strips_the_account_and_kills_its_tokens(api, patient_ayse):
    tokens = api.post("/api/v1/auth/token/", {"email": patient_ayse.email, "password": TEST_PASSWORD}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    api.patch("/api/v1/me/", {"national_id": "10000000146"})
    grant_id = _grant(api, "marketing_messages")

    response = api.post("/api/v1/me/erase/", {"password": TEST_PASSWORD})

    assert response.status_code == 202
    user = User.objects.get(pk=patient_ayse.pk)
    assert not user.is_active and user.erased_at is not None
    assert (user.first_name, user.national_id, user.national_id_hash) == ("", None, None)
    assert "ayse" not in user.email
    # the grant stays as proof, with its withdrawal beside it
    assert ConsentEvent.objects.filter(grant_id=grant_id, action="withdraw").exists()
    assert ConsentEvent.objects.filter(id=grant_id).exists()
    assert AuditEntry.objects.filter(patient=user, action="account_erased").exists()
    api.credentials()
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    login = api.post("/api/v1/auth/token/", {"email": "ayse@example.test", "password": TEST_PASSWORD})
    assert login.status_code == 401


def test_the_summary_names_the_doctors_and_clinics_that_received_data(as_user, patient_ayse, doctor_x, clinic_x):
    from appointments.demo import create_demo_schedule
    from tests.appointments.conftest import at, book, grant_booking_consent, working_day
    from tests.health_profiles.scenario import full_profile, share_with

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    book(patient_ayse, doctor_x, at(working_day(), 10), visit_reason="Migren-SUMMARY")
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])

    summary = as_user(patient_ayse).get("/api/v1/privacy/summary/", HTTP_ACCEPT_LANGUAGE="en").json()

    recipients = [recipient for item in summary["processing"] for recipient in item["recipients"]]
    assert any(doctor_x.name in r and clinic_x.name in r for r in recipients)
    assert f"{doctor_x.name}: allergy" in recipients
    assert "Migren-SUMMARY" not in str(summary)
    assert "Penisilin" not in str(summary)
