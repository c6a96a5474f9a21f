from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from appointments.models import Appointment
from reviews.models import COMMENT_MAX_LENGTH, Review
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = pytest.mark.django_db


def _url(appointment) -> str:
    return f"/api/v1/appointments/{appointment.id}/review/"


def test_the_patient_of_a_completed_appointment_publishes_a_review_with_consent(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    grant_review_publication(patient_ayse)

    response = as_user(patient_ayse).post(
        _url(appointment), {"rating": 4, "comment": "Çok ilgili.", "display": "initials", "publish": True}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rating"], body["comment"], body["published"], body["display_name"]) == (
        4,
        "Çok ilgili.",
        True,
        "A. Y.",
    )
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count, doctor_x.rating_avg) == (4, 1, 4.0)


def test_publishing_without_consent_gets_403_and_stores_nothing(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = as_user(patient_ayse).post(_url(appointment), {"rating": 5, "publish": True})

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert Review.objects.count() == 0
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (0, 0)


def test_a_private_review_needs_no_consent_and_counts_nowhere_public(as_user, api, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = as_user(patient_ayse).post(_url(appointment), {"rating": 1, "comment": "not for others"})

    assert response.status_code == 201
    assert response.json()["published"] is False
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (0, 0)
    assert api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/").json()["count"] == 0
    mine = as_user(patient_ayse).get("/api/v1/me/reviews/").json()
    assert [r["comment"] for r in mine["results"]] == ["not for others"]


def test_the_private_review_is_visible_to_its_author_only(as_user, patient_ayse, patient_mehmet, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    as_user(patient_ayse).post(_url(appointment), {"rating": 2})

    assert as_user(patient_ayse).get("/api/v1/me/reviews/").json()["count"] == 1
    assert as_user(patient_mehmet).get("/api/v1/me/reviews/").json()["count"] == 0
    assert as_user(doctor_x.user).get("/api/v1/me/reviews/").json()["count"] == 0


def test_someone_elses_appointment_gets_404(as_user, patient_ayse, patient_mehmet, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    grant_review_publication(patient_mehmet)

    response = as_user(patient_mehmet).post(_url(appointment), {"rating": 5, "publish": True})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Review.objects.count() == 0


def test_the_doctor_cannot_review_their_own_appointment(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = as_user(doctor_x.user).post(_url(appointment), {"rating": 5})

    assert response.status_code == 404
    assert Review.objects.count() == 0


def test_an_anonymous_caller_is_refused(api, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = api.post(_url(appointment), {"rating": 5})

    assert response.status_code == 401
    assert Review.objects.count() == 0


@pytest.mark.parametrize(
    "status",
    [
        Appointment.Status.BOOKED,
        Appointment.Status.NO_SHOW,
        Appointment.Status.CANCELLED_BY_PATIENT,
        Appointment.Status.CANCELLED_BY_CLINIC,
    ],
)
def test_an_appointment_that_is_not_completed_gets_409(as_user, patient_ayse, doctor_x, status):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x, status=status)

    response = as_user(patient_ayse).post(_url(appointment), {"rating": 5})

    assert response.status_code == 409
    assert response.json()["code"] == "review_not_allowed"
    assert Review.objects.count() == 0


def test_a_second_review_of_the_same_appointment_gets_409(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    grant_review_publication(patient_ayse)
    client = as_user(patient_ayse)
    assert client.post(_url(appointment), {"rating": 5, "publish": True}).status_code == 201

    response = client.post(_url(appointment), {"rating": 1, "publish": True})

    assert response.status_code == 409
    assert response.json()["code"] == "review_not_allowed"
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (5, 1)


def test_a_review_on_the_30th_day_is_accepted_and_after_it_gets_409(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x, ended_ago=timedelta(0))

    # (tokens are made inside the frozen time: a 10-minute access token would be expired otherwise)
    with freeze_time(appointment.end + timedelta(days=30, seconds=1)):
        late = as_user(patient_ayse).post(_url(appointment), {"rating": 3})
    with freeze_time(appointment.end + timedelta(days=29, hours=23)):
        in_time = as_user(patient_ayse).post(_url(appointment), {"rating": 3})

    assert late.status_code == 409
    assert late.json()["code"] == "review_not_allowed"
    assert in_time.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": "five"},
        {},
        {"rating": 3, "display": "full_name"},
        {"rating": 3, "comment": "x" * (COMMENT_MAX_LENGTH + 1)},
    ],
)
def test_invalid_input_gets_400_and_stores_nothing(as_user, patient_ayse, doctor_x, body):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = as_user(patient_ayse).post(_url(appointment), body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Review.objects.count() == 0


def test_a_comment_at_the_length_limit_is_accepted(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)

    response = as_user(patient_ayse).post(_url(appointment), {"rating": 3, "comment": "x" * COMMENT_MAX_LENGTH})

    assert response.status_code == 201


def test_html_in_a_comment_is_stored_and_returned_exactly_as_written(as_user, api, patient_ayse, doctor_x):
    comment = '<script>alert("x")</script> <a href="https://evil.example">click</a> & "quotes"  '
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    grant_review_publication(patient_ayse)

    created = as_user(patient_ayse).post(_url(appointment), {"rating": 2, "comment": comment, "publish": True})
    public = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/")

    assert created.status_code == 201
    assert Review.objects.get().comment == comment
    assert public.json()["results"][0]["comment"] == comment
    # JSON, never HTML: a browser will not run it.
    assert public["Content-Type"] == "application/json"


def test_the_anonymous_display_hides_the_initials(as_user, api, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    grant_review_publication(patient_ayse)

    as_user(patient_ayse).post(_url(appointment), {"rating": 5, "display": "anonymous", "publish": True})
    row = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    turkish = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/", HTTP_ACCEPT_LANGUAGE="tr").json()["results"][0]

    assert row["display_name"] == "Anonymous"
    assert turkish["display_name"] == "Anonim"
    assert "patient" not in row and "appointment" not in row
    assert "Ayşe" not in str(row) and "Yılmaz" not in str(row)


def test_the_review_window_is_counted_from_the_end_of_the_visit(as_user, patient_ayse, doctor_x):
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x, ended_ago=timedelta(days=31))

    response = as_user(patient_ayse).post(_url(appointment), {"rating": 5})

    assert response.status_code == 409
    assert appointment.end < timezone.now() - timedelta(days=30)
