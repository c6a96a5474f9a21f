"""The per-doctor lock of every availability writer (appointments.locks): the index refuses a write
whose transaction does not hold the doctor, and bookings racing cancels and reschedules of
overlapping slots neither deadlock nor leave the index wrong (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import transaction

from appointments import availability_index, locks
from appointments.models import Appointment
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.concurrency import responses_at_once
from tests.conftest import client_for
from tests.factories import UserFactory


def _span(day, hour):
    return [(at(day, hour), at(day, hour, 30))]


@pytest.mark.django_db
def test_it_refuses_an_index_write_without_the_doctors_lock(schedule_x, day):
    with pytest.raises(locks.DoctorNotHeld), transaction.atomic():
        availability_index.touch(doctor_id=schedule_x.id, spans=_span(day, 10))


@pytest.mark.django_db
def test_a_hold_lasts_as_long_as_its_transaction(schedule_x, day):
    with transaction.atomic():
        locks.hold_doctors([schedule_x.id])
        availability_index.touch(doctor_id=schedule_x.id, spans=_span(day, 10))

    with pytest.raises(locks.DoctorNotHeld), transaction.atomic():
        availability_index.touch(doctor_id=schedule_x.id, spans=_span(day, 10))


@pytest.mark.django_db
def test_a_hold_in_a_rolled_back_savepoint_is_gone(schedule_x, day):
    with pytest.raises(locks.DoctorNotHeld), transaction.atomic():
        try:
            with transaction.atomic():
                locks.hold_doctors([schedule_x.id])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        availability_index.touch(doctor_id=schedule_x.id, spans=_span(day, 10))


def _patients(count):
    users = [UserFactory() for _ in range(count)]
    for user in users:
        grant_booking_consent(user)
    return users


ROUNDS = 6


def _reschedule(patient, appointment, start):
    return lambda: client_for(patient).post(
        f"/api/v1/appointments/{appointment.id}/reschedule/", {"start": start.isoformat()}, format="json"
    )


def _cancel(patient, appointment):
    return lambda: client_for(patient).post(f"/api/v1/appointments/{appointment.id}/cancel/", {}, format="json")


def _book(patient, doctor, start):
    body = {"doctor": str(doctor.id), "start": start.isoformat(), "visit_reason": "kontrol"}
    return lambda: client_for(patient).post("/api/v1/appointments/", body, format="json")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bookings_racing_cancels_and_reschedules_of_overlapping_slots_end_without_deadlock(schedule_x):
    day = working_day()
    results = []
    for round_ in range(ROUNDS):
        # given: a booking that moves from `first` to `second`, and one at `third` that is cancelled
        on = day + timedelta(days=7 * (round_ // 3))
        first, second, third = at(on, 9 + round_ % 3), at(on, 9 + round_ % 3, 30), at(on, 14 + round_ % 3)
        moving, leaving, *bookers = _patients(5)
        moved, cancelled = book(moving, schedule_x, first), book(leaving, schedule_x, third)

        # when: at once, the move, the cancel, and a booking of each of the three slots
        calls = [
            _reschedule(moving, moved, second),
            _cancel(leaving, cancelled),
            *(
                _book(patient, schedule_x, start)
                for patient, start in zip(bookers, (first, second, third), strict=True)
            ),
        ]
        for status, body in responses_at_once(calls):
            results.append((status, body.get("code") if isinstance(body, dict) else body))

    # then: every answer is a success or a clean conflict, never a 500 or a deadlock, and the
    # index says what a recomputation says
    assert {status for status, _code in results} <= {200, 201, 409}, results
    assert all(code in (None, "slot_unavailable") for _status, code in results), results
    booked = list(Appointment.objects.filter(doctor=schedule_x, status="booked").order_by("start"))
    assert all(a.end <= b.start for a, b in zip(booked, booked[1:], strict=False)), booked
    assert availability_index.differences() == []
