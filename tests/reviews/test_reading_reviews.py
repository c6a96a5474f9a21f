import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews import services
from reviews.models import ReviewReply
from tests.factories import DoctorFactory, UserFactory
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = pytest.mark.django_db


def _published_review(doctor, rating=5, comment="", patient=None, reply=None):
    patient = patient or UserFactory()
    grant_review_publication(patient)
    appointment = past_appointment(patient=patient, doctor=doctor)
    review = services.review_create(
        patient=patient, appointment_id=appointment.id, rating=rating, comment=comment, publish=True
    )
    if reply:
        ReviewReply.objects.create(review=review, doctor=doctor, text=reply)
    return review


def test_the_public_list_shows_published_visible_reviews_only(api, platform_admin, patient_ayse, doctor_x):
    shown = _published_review(doctor_x, rating=5, comment="shown")
    hidden = _published_review(doctor_x, rating=1, comment="hidden")
    services.review_hide(review_id=hidden.id, moderator=platform_admin, reason="insult")
    private_appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    services.review_create(patient=patient_ayse, appointment_id=private_appointment.id, rating=1, comment="private")
    other_doctor = DoctorFactory(clinics=list(doctor_x.clinics.all()))
    _published_review(other_doctor, comment="someone else's")

    body = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/").json()

    assert body["count"] == 1
    assert [r["id"] for r in body["results"]] == [str(shown.id)]


def test_the_public_list_of_an_unknown_doctor_is_404(api):
    response = api.get("/api/v1/doctors/00000000-0000-0000-0000-000000000000/reviews/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_initials_come_from_the_patients_names(api, doctor_x):
    _published_review(doctor_x, patient=UserFactory(first_name="ömer", last_name="Şahin"))

    row = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/").json()["results"][0]

    assert row["display_name"] == "Ö. Ş."


@pytest.mark.parametrize("reviews", [2, 12])
def test_the_public_list_takes_a_fixed_number_of_queries(api, django_assert_num_queries, doctor_x, reviews):
    for number in range(reviews):
        _published_review(doctor_x, rating=1 + number % 5, reply="thanks" if number % 2 else None)

    # 1 the doctor (404 if unknown), 1 the count, 1 the page of reviews joined with patient and reply
    with django_assert_num_queries(3):
        response = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/?page_size=10")

    assert len(response.json()["results"]) == min(reviews, 10)


def test_my_reviews_take_a_fixed_number_of_queries(as_user, django_assert_num_queries, patient_ayse, doctor_x):
    grant_review_publication(patient_ayse)
    for number in range(6):
        appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
        services.review_create(patient=patient_ayse, appointment_id=appointment.id, rating=3, publish=number % 2 == 0)
    client = as_user(patient_ayse)

    # 1 the user behind the token, 1 the count, 1 the page joined with patient, reply and doctor's user
    with django_assert_num_queries(3):
        response = client.get("/api/v1/me/reviews/")

    assert response.json()["count"] == 6
    assert {r["published"] for r in response.json()["results"]} == {True, False}


def test_doctor_search_with_ratings_takes_the_same_queries_for_5_and_20_doctors(api, clinic_x):
    doctors = [DoctorFactory(clinics=[clinic_x]) for _ in range(20)]
    for number, doctor in enumerate(doctors):
        _published_review(doctor, rating=1 + number % 5)
        _published_review(doctor, rating=5)

    with CaptureQueriesContext(connection) as five:
        page_of_5 = api.get("/api/v1/doctors/?page_size=5")
    with CaptureQueriesContext(connection) as twenty:
        page_of_20 = api.get("/api/v1/doctors/?page_size=20")

    assert len(page_of_5.json()["results"]) == 5
    assert len(page_of_20.json()["results"]) == 20
    assert len(five.captured_queries) == len(twenty.captured_queries)
    ratings = {row["id"]: (row["rating_avg"], row["rating_count"]) for row in page_of_20.json()["results"]}
    for number, doctor in enumerate(doctors):
        assert ratings[str(doctor.id)] == ((1 + number % 5 + 5) / 2, 2)
