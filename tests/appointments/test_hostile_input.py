"""Hostile input is ordinary input: out-of-range dates, deep nesting and NUL characters get
400 validation_error, never a 500, and nothing is written."""

from urllib.parse import quote

import pytest

from accounts.models import Doctor, User
from appointments.models import Appointment, TimeOff
from tests.appointments.conftest import at
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

FAR_FUTURE = "9999-12-31T23:59:59-12:00"
YEAR_9999 = "9999-06-01T10:00:00+03:00"
YEAR_1 = "0001-01-01T10:00:00+03:00"
NESTED = "[" * 1000 + "]" * 1000  # 2 KB


def time_off(w, end):
    return client_for(w.doctor.user).post(
        f"/api/v1/doctors/{w.doctor.id}/time-off/", {"start": at(w.day, 8).isoformat(), "end": end}
    )


def book(w, start):
    return client_for(w.patient).post(
        "/api/v1/appointments/", {"doctor": str(w.doctor.id), "start": start, "visit_reason": "kontrol"}
    )


def reschedule(w, start):
    return client_for(w.patient).post(f"/api/v1/appointments/{w.booked.id}/reschedule/", {"start": start})


def raw_json(client, path, body):
    return client.generic("POST", path, body, content_type="application/json")


CASES = {
    "time off ending in year 9999 at -12:00": lambda w: time_off(w, FAR_FUTURE),
    "booking in year 9999": lambda w: book(w, YEAR_9999),
    "booking in year 1": lambda w: book(w, YEAR_1),
    "reschedule to year 9999": lambda w: reschedule(w, YEAR_9999),
    "reschedule to year 1": lambda w: reschedule(w, YEAR_1),
    "list from year 9999": lambda w: client_for(w.patient).get("/api/v1/appointments/?from=9999-12-31"),
    "list to year 1": lambda w: client_for(w.patient).get("/api/v1/appointments/?to=0001-01-01"),
    "list from a year-9999 time": lambda w: client_for(w.patient).get(
        f"/api/v1/appointments/?from={quote(FAR_FUTURE)}"
    ),
    "slots from year 9999": lambda w: w.api.get(f"/api/v1/doctors/{w.doctor.id}/slots/?from=9999-12-31"),
    "slots in year 1": lambda w: w.api.get(f"/api/v1/doctors/{w.doctor.id}/slots/?from=0001-01-01&to=0001-01-05"),
    "doctor search on a year-9999 day": lambda w: w.api.get("/api/v1/doctors/?available_on=9999-12-31"),
    "login body nested 1,000 deep": lambda w: raw_json(w.api, "/api/v1/auth/token/", NESTED),
    "object nested 1,000 deep": lambda w: raw_json(w.api, "/api/v1/auth/token/", '{"a":' * 1000 + "1" + "}" * 1000),
    "NUL in a registration name": lambda w: w.api.post(
        "/api/v1/auth/register/",
        {
            "email": "nul@example.test",
            "password": "a-long-enough-passphrase-9",
            "first_name": "Zey\x00nep",
            "last_name": "Kaya",
            "phone": "0532 123 45 67",
        },
    ),
    "NUL in a doctor's specialty": lambda w: client_for(w.clinic_admin).post(
        f"/api/v1/clinics/{w.clinic.id}/doctors/",
        {
            "email": "new.doctor@example.test",
            "first_name": "Can",
            "last_name": "Ak",
            "specialty": "cardiology\x00",
            "registration_number": "12345",
        },
    ),
    "NUL in a key": lambda w: w.api.post("/api/v1/auth/token/", {"email\x00": "a@example.test", "password": "x"}),
    "NUL in a query parameter": lambda w: w.api.get("/api/v1/doctors/?specialty=cardio%00logy"),
    "NUL in a search": lambda w: w.api.get("/api/v1/doctors/?q=%00"),
}


class World:
    def __init__(self, **parts):
        self.__dict__.update(parts)


def snapshot(booked):
    booked.refresh_from_db()
    return (
        User.objects.count(),
        Doctor.objects.count(),
        TimeOff.objects.count(),
        Appointment.objects.count(),
        booked.start,
        booked.status,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_input_gets_400_validation_error_and_writes_nothing(
    case, api, ayse, schedule_x, booked, day, clinic_x, clinic_admin_x
):
    world = World(
        api=api, patient=ayse, doctor=schedule_x, booked=booked, day=day, clinic=clinic_x, clinic_admin=clinic_admin_x
    )
    before = snapshot(booked)

    response = case(world)

    assert response.status_code == 400, response.content[:500]
    assert response.json()["code"] == "validation_error"
    assert snapshot(booked) == before
