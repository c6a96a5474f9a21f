"""Answers come in the language the request asks for, else in the user's stored language, and no
message stays English under Turkish."""

from datetime import timedelta

import pytest

from tests.factories import DoctorFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD_FROM = "/api/v1/appointments/?from=yesterday"


def test_without_accept_language_the_users_own_language_answers(as_user):
    english = as_user(UserFactory(language="en"))
    turkish = as_user(UserFactory(language="tr"))

    assert english.get(BAD_FROM).json()["fields"]["from"] == ["Use YYYY-MM-DD or a time with its offset."]
    assert turkish.get(BAD_FROM).json()["fields"]["from"] == ["YYYY-AA-GG ya da UTC farkıyla bir saat kullanın."]
    assert english.get("/api/v1/appointments/00000000-0000-0000-0000-000000000000/").json()["detail"] == "Not found."


def test_accept_language_wins_over_the_stored_language(as_user):
    english = as_user(UserFactory(language="en"))
    turkish = as_user(UserFactory(language="tr"))

    assert english.get(BAD_FROM, HTTP_ACCEPT_LANGUAGE="tr").json()["detail"] == "Geçersiz giriş."
    assert turkish.get(BAD_FROM, HTTP_ACCEPT_LANGUAGE="en").json()["detail"] == "Invalid input."


def test_an_anonymous_request_without_accept_language_is_answered_in_turkish(api):
    response = api.get("/api/v1/consent-texts/?purpose=astrology")

    assert response.json()["fields"] == {"purpose": ["Bilinmeyen amaç."]}


@pytest.mark.parametrize(
    ("path", "field", "turkish", "english"),
    [
        ("/api/v1/consent-texts/?purpose=astrology", "purpose", "Bilinmeyen amaç.", "Unknown purpose."),
        ("/api/v1/appointments/?from=2026-12-01T09:30", "from", "Saati UTC farkıyla birlikte verin.", None),
    ],
)
def test_messages_that_stayed_english_are_translated(as_user, path, field, turkish, english):
    client = as_user(UserFactory(language="en"))

    assert client.get(path, HTTP_ACCEPT_LANGUAGE="tr").json()["fields"][field] == [turkish]
    if english:
        assert client.get(path, HTTP_ACCEPT_LANGUAGE="en").json()["fields"][field] == [english]


def test_slot_range_errors_are_turkish_and_name_from_not_from_(api, clinic_x):
    doctor = DoctorFactory(clinics=[clinic_x])
    slots = f"/api/v1/doctors/{doctor.id}/slots/"

    bad_from = api.get(slots, {"from": "soon"}, HTTP_ACCEPT_LANGUAGE="tr").json()
    too_long = api.get(slots, {"from": "2030-01-01", "to": "2030-03-01"}, HTTP_ACCEPT_LANGUAGE="tr").json()
    backwards = api.get(slots, {"from": "2030-01-02", "to": "2030-01-01"}, HTTP_ACCEPT_LANGUAGE="tr").json()

    assert set(bad_from["fields"]) == {"from"}
    assert too_long["fields"] == {"to": ["Bir istekte en fazla 31 gün."]}
    assert backwards["fields"] == {"to": ["`from` gününden önce olamaz."]}


def test_a_bad_from_on_the_appointment_list_is_reported_under_from(as_user, patient_ayse):
    response = as_user(patient_ayse).get("/api/v1/appointments/", {"from": "1800-01-01"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"from"}


def test_the_slot_range_still_defaults_and_filters(api, clinic_x):
    from appointments.demo import create_demo_schedule
    from tests.appointments.conftest import working_day

    doctor = DoctorFactory(clinics=[clinic_x])
    create_demo_schedule(doctor, clinic_x)
    day = working_day()

    slots = api.get(f"/api/v1/doctors/{doctor.id}/slots/", {"from": str(day), "to": str(day)}).json()

    assert slots and all(slot["start"].startswith(str(day)) for slot in slots)
    assert {slot["start"][:10] for slot in slots} == {str(day)}
    assert api.get(f"/api/v1/doctors/{doctor.id}/slots/", {"to": str(day + timedelta(days=1))}).status_code == 200
