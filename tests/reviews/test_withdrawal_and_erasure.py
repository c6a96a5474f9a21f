import pytest

from privacy.models import AuditEntry
from reviews import services
from reviews.models import Review
from tests.factories import TEST_PASSWORD, DoctorFactory
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = pytest.mark.django_db


def _review(patient, doctor, rating, publish=True):
    appointment = past_appointment(patient=patient, doctor=doctor)
    return services.review_create(patient=patient, appointment_id=appointment.id, rating=rating, publish=publish)


def _rating(doctor):
    doctor.refresh_from_db()
    return doctor.rating_sum, doctor.rating_count


def test_withdrawing_publication_consent_deletes_the_reviews_and_the_aggregate_drops(
    as_user, api, patient_ayse, patient_mehmet, doctor_x
):
    other_doctor = DoctorFactory(clinics=list(doctor_x.clinics.all()))
    grant = grant_review_publication(patient_ayse)
    grant_review_publication(patient_mehmet)
    _review(patient_ayse, doctor_x, 1)
    _review(patient_ayse, other_doctor, 2)
    _review(patient_ayse, doctor_x, 3, publish=False)
    _review(patient_mehmet, doctor_x, 5)
    assert _rating(doctor_x) == (6, 2)

    response = as_user(patient_ayse).post(f"/api/v1/consents/{grant.id}/withdraw/")

    assert response.status_code == 200
    assert not Review.objects.filter(patient=patient_ayse).exists()
    assert _rating(doctor_x) == (5, 1)
    assert _rating(other_doctor) == (0, 0)
    assert api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/").json()["count"] == 1
    audit = AuditEntry.objects.get(patient=patient_ayse, action="consent_withdrawn:review_publication")
    assert audit.metadata["reviews_deleted"] == 3


def test_withdrawal_does_not_count_a_hidden_review_twice(as_user, patient_ayse, platform_admin, doctor_x):
    grant = grant_review_publication(patient_ayse)
    hidden = _review(patient_ayse, doctor_x, 1)
    _review(patient_ayse, doctor_x, 4)
    services.review_hide(review_id=hidden.id, moderator=platform_admin, reason="insult")
    assert _rating(doctor_x) == (4, 1)

    as_user(patient_ayse).post(f"/api/v1/consents/{grant.id}/withdraw/")

    assert _rating(doctor_x) == (0, 0)


def test_after_withdrawal_publishing_is_refused_again(as_user, patient_ayse, doctor_x):
    grant = grant_review_publication(patient_ayse)
    client = as_user(patient_ayse)
    client.post(f"/api/v1/consents/{grant.id}/withdraw/")
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = client.post(f"/api/v1/appointments/{appointment.id}/review/", {"rating": 5, "publish": True})

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"


def test_erasing_the_account_deletes_published_reviews_through_the_withdrawal(as_user, patient_ayse, doctor_x):
    grant_review_publication(patient_ayse)
    _review(patient_ayse, doctor_x, 5)

    response = as_user(patient_ayse).post("/api/v1/me/erase/", {"password": TEST_PASSWORD})

    assert response.status_code == 202
    assert not Review.objects.filter(patient=patient_ayse).exists()
    assert _rating(doctor_x) == (0, 0)


def test_reviews_erase_deletes_private_reviews_too_and_audits_the_count(patient_ayse, doctor_x):
    _review(patient_ayse, doctor_x, 2, publish=False)
    _review(patient_ayse, doctor_x, 3, publish=False)

    deleted = services.reviews_erase(patient=patient_ayse)

    assert deleted == 2
    assert not Review.objects.filter(patient=patient_ayse).exists()
    assert AuditEntry.objects.get(action="reviews_erased").metadata == {"reviews_deleted": 2}


def test_erasing_the_account_deletes_private_reviews_written_without_consent(as_user, patient_ayse, doctor_x):
    _review(patient_ayse, doctor_x, 2, publish=False)

    as_user(patient_ayse).post("/api/v1/me/erase/", {"password": TEST_PASSWORD})

    assert not Review.objects.filter(patient=patient_ayse).exists()


def test_the_privacy_summary_lists_the_reviews(as_user, patient_ayse, doctor_x):
    grant_review_publication(patient_ayse)
    _review(patient_ayse, doctor_x, 5)
    _review(patient_ayse, doctor_x, 2, publish=False)

    processing = as_user(patient_ayse).get("/api/v1/privacy/summary/").json()["processing"]

    review_rows = [row for row in processing if "review" in row["data"].lower() or "yorum" in row["data"].lower()]
    assert len(review_rows) == 2
