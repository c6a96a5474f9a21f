"""Idempotent retries, anti-hoarding limits and the booking throttle."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from appointments.models import Appointment, IdempotencyRecord
from appointments.throttles import BookingThrottle
from tests.appointments.conftest import at, book, working_day
from tests.factories import ClinicFactory, DoctorFactory

pytestmark = pytest.mark.django_db


def body(doctor, start, reason="kontrol"):
    return {"doctor": str(doctor.id), "start": start.isoformat(), "visit_reason": reason}


def test_a_retry_with_the_same_key_returns_the_first_booking(as_user, ayse, schedule_x, day):
    client = as_user(ayse)

    first = client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)), HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)), HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert Appointment.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(as_user, ayse, schedule_x, day):
    client = as_user(ayse)
    client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)), HTTP_IDEMPOTENCY_KEY="k-1")

    response = client.post("/api/v1/appointments/", body(schedule_x, at(day, 11)), HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Appointment.objects.count() == 1


def test_a_retry_without_a_key_is_a_new_request(as_user, ayse, schedule_x, day):
    client = as_user(ayse)
    client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)))

    response = client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)))

    assert response.json()["code"] == "slot_unavailable"


def test_keys_belong_to_one_user(as_user, ayse, mehmet, schedule_x, day):
    as_user(ayse).post("/api/v1/appointments/", body(schedule_x, at(day, 10)), HTTP_IDEMPOTENCY_KEY="shared")

    response = as_user(mehmet).post(
        "/api/v1/appointments/", body(schedule_x, at(day, 11)), HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert response.status_code == 201
    assert Appointment.objects.filter(patient=mehmet).count() == 1


def test_a_key_older_than_24_hours_no_longer_replays(as_user, ayse, schedule_x, day):
    client = as_user(ayse)
    client.post("/api/v1/appointments/", body(schedule_x, at(day, 10)), HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = client.post(
        "/api/v1/appointments/", body(schedule_x, at(day + timedelta(days=1), 10)), HTTP_IDEMPOTENCY_KEY="old"
    )

    assert response.status_code == 201
    assert Appointment.objects.count() == 2


@override_settings(BOOKING_MAX_FUTURE_APPOINTMENTS=5)
def test_a_patient_holds_at_most_five_upcoming_appointments(as_user, ayse, clinic_x):
    doctors = [DoctorFactory(clinics=[clinic_x]) for _ in range(6)]
    from appointments.demo import create_demo_schedule

    for doctor in doctors:
        create_demo_schedule(doctor, clinic_x)
    day = working_day()
    for hour, doctor in zip([9, 10, 11, 14, 15], doctors[:5], strict=True):
        book(ayse, doctor, at(day, hour))

    response = as_user(ayse).post("/api/v1/appointments/", body(doctors[5], at(day, 16)))

    assert response.status_code == 409
    assert response.json()["code"] == "booking_limit_reached"
    assert Appointment.objects.filter(patient=ayse).count() == 5


def test_past_appointments_do_not_count_towards_the_limit(as_user, ayse, schedule_x, clinic_x, day):
    from tests.appointments.test_lifecycle import past_appointment

    with override_settings(BOOKING_MAX_FUTURE_APPOINTMENTS=1):
        past_appointment(ayse, schedule_x, clinic_x, status="completed")
        response = as_user(ayse).post("/api/v1/appointments/", body(schedule_x, at(day, 10)))

    assert response.status_code == 201


def test_one_appointment_per_doctor_per_day(as_user, ayse, booked, schedule_x, day):
    same_day = as_user(ayse).post("/api/v1/appointments/", body(schedule_x, at(day, 15)))
    next_day = as_user(ayse).post("/api/v1/appointments/", body(schedule_x, at(day + timedelta(days=1), 15)))

    assert same_day.status_code == 409
    assert same_day.json()["code"] == "booking_limit_reached"
    assert next_day.status_code in (201, 409)  # 409 only when the next day is a weekend
    if (day + timedelta(days=1)).weekday() < 5:
        assert next_day.status_code == 201


def test_another_doctor_on_the_same_day_is_fine(ayse, booked, clinic_x, day):
    from appointments.demo import create_demo_schedule

    other = DoctorFactory(clinics=[clinic_x])
    create_demo_schedule(other, clinic_x)

    assert book(ayse, other, at(day, 15)).status == "booked"


def test_bookings_are_throttled_per_user(as_user, ayse, schedule_x, day, monkeypatch):
    monkeypatch.setattr(BookingThrottle, "THROTTLE_RATES", {"booking": "2/min"})
    client = as_user(ayse)

    statuses = [client.post("/api/v1/appointments/", body(schedule_x, at(day, 9 + i))).status_code for i in range(3)]

    assert statuses[2] == 429
    assert client.post("/api/v1/appointments/", body(schedule_x, at(day, 14))).json()["code"] == "throttled"


def test_a_clinic_in_another_zone_books_in_its_own_local_time(as_user, ayse):
    from zoneinfo import ZoneInfo

    from appointments.demo import create_demo_schedule

    berlin = ClinicFactory(timezone="Europe/Berlin")
    doctor = DoctorFactory(clinics=[berlin])
    create_demo_schedule(doctor, berlin)
    start = at(working_day(), 9, tz=ZoneInfo("Europe/Berlin"))

    response = as_user(ayse).post("/api/v1/appointments/", body(doctor, start))

    assert response.status_code == 201, response.json()
    assert response.json()["start"] == start.isoformat()
