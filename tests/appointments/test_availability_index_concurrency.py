"""Concurrent writes of one doctor's day keep the availability index exact (PostgreSQL, where
bookings of one doctor run side by side): each write recomputes the day under the index lock."""

from datetime import timedelta

import pytest

from appointments import availability_index
from appointments.models import Appointment, DayAvailability
from tests.appointments.conftest import at, grant_booking_consent, working_day
from tests.appointments.test_concurrency import run_at_once
from tests.conftest import client_for
from tests.factories import UserFactory

THREADS = 14  # one patient per free slot of the day (09:00-17:00 less lunch)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_fourteen_patients_booking_every_slot_of_a_day_at_once_leave_it_at_zero(schedule_x, clinic_x):
    day = working_day()
    starts = [at(day, 9) + timedelta(minutes=30 * i) for i in range(16)]
    starts = [start for start in starts if start.hour != 12 or start.minute != 30][:7] + [
        at(day, 13, 30) + timedelta(minutes=30 * i) for i in range(7)
    ]
    patients = [UserFactory() for _ in range(THREADS)]
    for patient in patients:
        grant_booking_consent(patient)
    bodies = [{"doctor": str(schedule_x.id), "start": start.isoformat(), "visit_reason": "kontrol"} for start in starts]

    clients = [client_for(patient) for patient in patients]

    results = run_at_once(
        [lambda c=c, b=b: c.post("/api/v1/appointments/", b) for c, b in zip(clients, bodies, strict=True)]
    )

    assert results.count((201, None)) == THREADS, results
    assert Appointment.objects.filter(doctor=schedule_x, status="booked").count() == THREADS
    row = DayAvailability.objects.get(doctor=schedule_x, clinic=clinic_x, day=day)
    assert (row.free_slots, row.first_free, row.last_free) == (0, None, None)
    assert availability_index.differences() == []
