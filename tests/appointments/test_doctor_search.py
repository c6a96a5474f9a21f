"""Doctor search: available_on and next_available, in a fixed number of queries."""

from datetime import timedelta

import pytest

from appointments.demo import create_demo_schedule
from appointments.models import TimeOff
from tests.appointments.conftest import at
from tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


def names(response):
    return {row["id"] for row in response.json()["results"]}


def test_available_on_keeps_doctors_with_a_free_slot_that_day(api, schedule_x, schedule_y, doctor_x, day):
    unscheduled = DoctorFactory(clinics=list(doctor_x.clinics.all()))
    TimeOff.objects.create(doctor=schedule_y, start=at(day, 0), end=at(day + timedelta(days=1), 0))

    response = api.get(f"/api/v1/doctors/?available_on={day}")

    assert response.status_code == 200
    assert names(response) == {str(schedule_x.id)}
    assert str(unscheduled.id) not in names(api.get("/api/v1/doctors/?available_on=" + str(day)))


def test_available_on_a_weekend_finds_nobody_on_a_weekday_schedule(api, schedule_x, day):
    saturday = day + timedelta(days=5 - day.weekday())

    assert api.get(f"/api/v1/doctors/?available_on={saturday}").json()["count"] == 0


def test_next_available_is_the_first_free_slot_in_the_clinic_zone(api, schedule_x, doctor_x):
    unscheduled = DoctorFactory(clinics=list(doctor_x.clinics.all()))

    rows = {row["id"]: row for row in api.get("/api/v1/doctors/").json()["results"]}

    first = rows[str(schedule_x.id)]["next_available"]
    assert first is not None and first[11:16] in {f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)}
    assert rows[str(unscheduled.id)]["next_available"] is None
    assert api.get(f"/api/v1/doctors/{schedule_x.id}/").json()["next_available"] == first


@pytest.mark.parametrize("page_size", [2, 10])
def test_search_costs_the_same_queries_whatever_the_page_size(api, clinic_x, day, page_size, django_assert_num_queries):
    for _ in range(10):
        create_demo_schedule(DoctorFactory(clinics=[clinic_x]), clinic_x)

    # available_on: 1 candidate ids, 4 schedules (hours, breaks, time off, bookings of that day);
    # page: 1 count, 1 page, 1 clinics prefetch; next_available: 4 schedules for the page
    with django_assert_num_queries(12):
        response = api.get(f"/api/v1/doctors/?available_on={day}&page_size={page_size}")

    assert response.json()["count"] == 10
    assert len(response.json()["results"]) == page_size
    assert all(row["next_available"] for row in response.json()["results"])
