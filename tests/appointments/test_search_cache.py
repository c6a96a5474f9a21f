"""The search cache (appointments/search_cache.py) answers what the database would, at every moment.

As tests/appointments/test_slot_cache.py: each test switches it on over the test run's cache
(locmem in the embedded run, the private Redis in the real-services run), fills it with a first
read, changes something through the services, the API or the clock, and reads again: the answer
must be the one computed afresh."""

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from accounts.models import Clinic, Doctor
from accounts.services import user_update
from appointments import search
from appointments.models import TimeOff
from appointments.services import appointment_cancel, time_off_create, time_off_delete
from tests.appointments.conftest import at, book
from tests.factories import DoctorFactory, specialty
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.SEARCH_CACHE_SECONDS = 600
    settings.SLOT_CACHE_SECONDS = 0


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A write's on-commit work (the versions replaced) runs at the end of this block, as it would
    at its commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def answer(client, query=""):
    response = client.get(f"/api/v1/doctors/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def fresh(client, query, settings):
    """The same read with the cache off: what the database says now."""
    settings.SEARCH_CACHE_SECONDS = 0
    try:
        return answer(client, query)
    finally:
        settings.SEARCH_CACHE_SECONDS = 600


def next_available(body, doctor):
    return {row["id"]: row["next_available"] for row in body["results"]}[str(doctor.id)]


def ids(body):
    return {row["id"] for row in body["results"]}


def test_a_hit_costs_no_query_and_answers_the_same(api, schedule_x, schedule_y, settings, django_assert_num_queries):
    first = answer(api, "page_size=1")

    with django_assert_num_queries(0):
        again = answer(api, "page_size=1")

    assert again == first == fresh(api, "page_size=1", settings)
    assert first["count"] == 2 and first["next"] is not None  # the envelope is built per request
    second_page = answer(api, "page_size=1&page=2")
    assert second_page["previous"] is not None and ids(second_page) != ids(first)


def test_the_answer_is_per_language(api, schedule_x):
    turkish = answer(api)
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    english = answer(api)

    assert turkish["results"][0]["specialty_name"] == "Kardiyoloji"
    assert english["results"][0]["specialty_name"] == "Cardiology"


def test_booking_the_shown_next_available_changes_it_for_everyone(api, as_user, ayse, schedule_x, settings, committed):
    shown = next_available(answer(api), schedule_x)

    with committed():
        response = as_user(ayse).post(
            "/api/v1/appointments/",
            {"doctor": str(schedule_x.id), "start": shown, "visit_reason": "kontrol"},
            format="json",
        )
    assert response.status_code == 201, response.content

    assert next_available(answer(as_user(ayse)), schedule_x) > shown
    assert next_available(answer(api), schedule_x) > shown
    assert answer(api) == fresh(api, "", settings)


def test_cancel_and_time_off_show_at_once(api, ayse, schedule_x, settings, committed):
    shown = next_available(answer(api), schedule_x)
    with committed():
        appointment = book(ayse, schedule_x, search.next_available_for(doctor_ids=[schedule_x.id])[schedule_x.id])
    assert next_available(answer(api), schedule_x) > shown

    with committed():
        appointment_cancel(appointment=appointment, actor=ayse)
    assert next_available(answer(api), schedule_x) == shown

    with committed():
        time_off_create(
            doctor=schedule_x, start=appointment.start, end=appointment.start + timedelta(days=3), actor=schedule_x.user
        )
    assert next_available(answer(api), schedule_x) >= (appointment.start + timedelta(days=3)).isoformat()
    assert answer(api) == fresh(api, "", settings)


def test_working_hours_changes_show_at_once(api, as_user, schedule_x, committed):
    assert next_available(answer(api), schedule_x) is not None
    doctor_client = as_user(schedule_x.user)
    for row in doctor_client.get(f"/api/v1/doctors/{schedule_x.id}/working-hours/").json()["results"]:
        with committed():
            response = doctor_client.delete(f"/api/v1/doctors/{schedule_x.id}/working-hours/{row['id']}/")
        assert response.status_code == 204, response.content

    assert next_available(answer(api), schedule_x) is None


def test_a_doctor_made_inactive_renamed_or_moved_shows_at_once(api, schedule_x, clinic_x, clinic_y, committed):
    assert ids(answer(api, "city=istanbul")) == {str(schedule_x.id)}

    with committed():
        user_update(user=schedule_x.user, first_name="Zeynep", last_name="Öztürk")
    assert ids(answer(api, "q=ozturk")) == {str(schedule_x.id)}
    assert "Öztürk" in answer(api, "city=istanbul")["results"][0]["name"]

    with committed():
        schedule_x.clinics.add(clinic_y)
    assert ids(answer(api, "city=ankara")) == {str(schedule_x.id)}

    with committed():
        schedule_x.clinics.remove(clinic_y)
    assert answer(api, "city=ankara")["count"] == 0

    doctor = Doctor.objects.get(pk=schedule_x.pk)
    doctor.is_active = False
    with committed():
        doctor.save()
    assert answer(api, "city=istanbul")["count"] == 0


def test_clinic_and_specialty_changes_show_at_once(api, schedule_x, clinic_x, committed):
    assert answer(api)["results"][0]["city"] == "İstanbul"

    clinic = Clinic.objects.get(pk=clinic_x.pk)
    clinic.city = "İzmir"
    with committed():
        clinic.save()
    assert answer(api)["results"][0]["city"] == "İzmir"
    assert ids(answer(api, "city=izmir")) == {str(schedule_x.id)}

    cardiology = specialty("cardiology")
    cardiology.name_tr = "Kalp"
    with committed():
        cardiology.save()
    assert answer(api)["results"][0]["specialty_name"] == "Kalp"


def test_a_published_rating_shows_at_once(api, as_user, patient_ayse, schedule_x, committed):
    assert answer(api, "ordering=rating")["results"][0]["rating_count"] == 0
    appointment = past_appointment(patient=patient_ayse, doctor=schedule_x)
    grant_review_publication(patient_ayse)

    with committed():
        response = as_user(patient_ayse).post(
            f"/api/v1/appointments/{appointment.id}/review/",
            {"rating": 4, "comment": "İyi.", "display": "initials", "publish": True},
        )
    assert response.status_code == 201, response.content

    row = answer(api, "ordering=rating")["results"][0]
    assert (row["rating_avg"], row["rating_count"]) == (4.0, 1)


def test_available_on_membership_shows_at_once(api, schedule_x, schedule_y, day, settings, committed):
    """Doctor y, absent from the page, becomes free that day: only the day's version tells."""
    with committed():
        time_off_create(actor=schedule_y.user, doctor=schedule_y, start=at(day, 0), end=at(day, 23, 59))
    assert ids(answer(api, f"available_on={day}")) == {str(schedule_x.id)}

    with committed():
        time_off_delete(actor=schedule_y.user, time_off=TimeOff.objects.get(doctor=schedule_y))
    assert ids(answer(api, f"available_on={day}")) == {str(schedule_x.id), str(schedule_y.id)}

    with committed():
        time_off_create(actor=schedule_x.user, doctor=schedule_x, start=at(day, 0), end=at(day, 23, 59))
    assert ids(answer(api, f"available_on={day}")) == {str(schedule_y.id)}
    assert answer(api, f"available_on={day}") == fresh(api, f"available_on={day}", settings)


def test_past_a_shown_next_available_minus_the_notice_the_answer_is_fresh(
    api, schedule_x, day, django_assert_num_queries
):
    nine = at(day, 9)
    with freeze_time(nine - timedelta(hours=2, minutes=5)):  # within SEARCH_CACHE_SECONDS of the hit below
        assert next_available(answer(api), schedule_x) == nine.isoformat()
    with freeze_time(nine - timedelta(hours=2)), django_assert_num_queries(0):
        assert next_available(answer(api), schedule_x) == nine.isoformat()  # exactly the notice: a hit
    with freeze_time(nine - timedelta(hours=2) + timedelta(microseconds=1)):
        assert next_available(answer(api), schedule_x) == at(day, 9, 30).isoformat()
    with freeze_time(nine - timedelta(hours=3)):
        assert next_available(answer(api), schedule_x) == nine.isoformat()  # never used before it was read


def test_available_on_is_not_cached_while_the_clock_can_change_it(api, schedule_x, day, django_assert_num_queries):
    with freeze_time(at(day, 8)):
        answer(api, f"available_on={day}")
        with django_assert_num_queries(3):  # notice can still end the day's slots: read again
            assert ids(answer(api, f"available_on={day}")) == {str(schedule_x.id)}
    with freeze_time(at(day, 16, 30) - timedelta(hours=2) + timedelta(microseconds=1)):
        assert answer(api, f"available_on={day}")["count"] == 0


def test_available_on_at_the_edge_of_a_horizon_is_read_again(api, schedule_x, schedule_y, clinic_y, day, committed):
    """Clinic y books 100 days ahead, clinic x 90: the day enters x's horizon as the clock moves."""
    clinic = Clinic.objects.get(pk=clinic_y.pk)
    clinic.horizon_days = 100
    with committed():
        clinic.save()
    nine = at(day, 9)

    with freeze_time(nine - timedelta(days=90, minutes=1)):
        assert ids(answer(api, f"available_on={day}")) == {str(schedule_y.id)}
    with freeze_time(nine - timedelta(days=90)):
        assert ids(answer(api, f"available_on={day}")) == {str(schedule_x.id), str(schedule_y.id)}


def test_a_next_available_beyond_the_shortest_horizon_is_not_stored(
    api, schedule_x, clinic_y, day, django_assert_num_queries
):
    """A clinic booking only 3 days ahead could let a slot earlier than x's roll in at any moment."""
    clinic = Clinic.objects.get(pk=clinic_y.pk)
    clinic.horizon_days = 3
    clinic.save()
    time_off_create(actor=schedule_x.user, doctor=schedule_x, start=at(day, 0) - timedelta(days=5), end=at(day, 0))
    with freeze_time(at(day, 6)):  # x's next is 09:00 that day: within 3 days, stored
        answer(api, "city=istanbul")
        with django_assert_num_queries(0):
            answer(api, "city=istanbul")
    with freeze_time(at(day, 6) - timedelta(days=4)):  # x's next is still `day`: beyond 3 days
        assert next_available(answer(api, "city=istanbul"), schedule_x) == at(day, 9).isoformat()
        with django_assert_num_queries(3):  # the page and its count, clinics, next_available
            answer(api, "city=istanbul")


def test_a_page_with_a_doctor_without_next_available_is_not_stored(
    api, schedule_x, clinic_x, django_assert_num_queries
):
    DoctorFactory(clinics=[clinic_x])  # no hours: a slot could roll into a horizon (see search_cache)
    answer(api)

    with django_assert_num_queries(3):  # the page and its count, clinics, next_available
        answer(api)


def test_an_entry_read_before_a_write_commits_is_never_used(api, ayse, schedule_x, settings, committed):
    """The page doctors' versions are read after the queries; ANY_DOCTOR, read before them, tells
    that a doctor's free time changed in between, and the answer is not kept."""
    original = search.next_available_for
    booked = {}

    def read_then_book(**kwargs):
        found = original(**kwargs)  # the index read before the booking
        if not booked:
            with committed():
                booked["appointment"] = book(ayse, schedule_x, found[schedule_x.id])
        return found

    search.next_available_for = read_then_book
    try:
        stale = next_available(answer(api), schedule_x)
    finally:
        search.next_available_for = original

    assert datetime.fromisoformat(stale) == booked["appointment"].start  # this read began before the booking
    assert next_available(answer(api), schedule_x) > stale  # and is never used again
    assert answer(api) == fresh(api, "", settings)
