"""Many patients at the same slot at the same instant: the database lets exactly one through."""

from datetime import timedelta

import pytest

from appointments.models import Appointment
from tests.appointments.conftest import at, grant_booking_consent, working_day
from tests.concurrency import responses_at_once
from tests.conftest import client_for
from tests.factories import UserFactory

THREADS = 50

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_at_once(requests):
    """Each request in its own thread, released together: (status, code) each."""
    return [
        (status, body.get("code")) if isinstance(body, dict) else (status, body)
        for status, body in responses_at_once(requests)
    ]


def patients(count):
    users = [UserFactory() for _ in range(count)]
    for user in users:
        grant_booking_consent(user)
    return users


def test_fifty_patients_booking_one_slot_at_once_get_one_201_and_49_409s(schedule_x):
    start = at(working_day(), 10)
    clients = [client_for(patient) for patient in patients(THREADS)]
    body = {"doctor": str(schedule_x.id), "start": start.isoformat(), "visit_reason": "kontrol"}

    results = run_at_once([lambda c=c: c.post("/api/v1/appointments/", body) for c in clients])

    assert sorted(results, key=str).count((201, None)) == 1, results
    assert results.count((409, "slot_unavailable")) == THREADS - 1, results
    assert Appointment.objects.filter(doctor=schedule_x, start=start).count() == 1


def test_fifty_patients_rescheduling_into_one_slot_at_once_move_one_and_keep_the_rest(schedule_x, clinic_x):
    # given 50 patients, each booked on distinct slots of the days before the target day
    target_day = working_day(days_ahead=40)
    users = patients(THREADS)
    free_slots = []
    day = working_day(days_ahead=7)
    while len(free_slots) < THREADS:
        if day.weekday() < 5:
            free_slots += [at(day, 9) + timedelta(minutes=30 * i) for i in range(7)]  # 09:00–12:30, before lunch
        day += timedelta(days=1)
    appointments = [
        Appointment.objects.create(
            patient=user, doctor=schedule_x, clinic=clinic_x, start=start, end=start + timedelta(minutes=30)
        )
        for user, start in zip(users, free_slots, strict=False)
    ]
    original = {appointment.id: appointment.start for appointment in appointments}
    target = at(target_day, 15)
    clients = {appointment.id: client_for(appointment.patient) for appointment in appointments}

    # when they all try to move to the same slot at once
    results = run_at_once(
        [
            lambda a=a: clients[a.id].post(f"/api/v1/appointments/{a.id}/reschedule/", {"start": target.isoformat()})
            for a in appointments
        ]
    )

    # then one moved, the others got 409 and kept their booking
    assert results.count((200, None)) == 1, results
    assert results.count((409, "slot_unavailable")) == THREADS - 1, results
    assert Appointment.objects.filter(doctor=schedule_x, start=target, status="booked").count() == 1
    kept = Appointment.objects.exclude(start=target)
    assert kept.count() == THREADS - 1
    assert all(appointment.start == original[appointment.id] and appointment.status == "booked" for appointment in kept)
