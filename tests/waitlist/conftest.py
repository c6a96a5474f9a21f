"""The appointment tests' schedules and consenting patients, and waitlist helpers."""

from datetime import datetime, timedelta

import pytest

from accounts.models import Doctor
from appointments.models import TimeOff
from appointments.services import time_off_delete
from tests.appointments.conftest import (  # noqa: F401 - fixtures shared with the appointment tests
    at,
    ayse,
    day,
    grant_booking_consent,
    mehmet,
    schedule_x,
    schedule_y,
)

WAITLIST = "/api/v1/waitlist/"


def join(client, doctor: Doctor, first_day, last_day=None, **extra):
    body = {"doctor": str(doctor.id), "from": str(first_day), "to": str(last_day or first_day), **extra}
    return client.post(WAITLIST, body, format="json")


def time_off(doctor: Doctor, start: datetime, end: datetime) -> TimeOff:
    return TimeOff.objects.create(doctor=doctor, start=start, end=end, reason="kongre")


def remove_time_off(doctor: Doctor, record: TimeOff) -> None:
    """One time-off change, by the doctor: it frees every slot it covered at once."""
    time_off_delete(actor=doctor.user, time_off=record)


def slot_starts(first: datetime, count: int, minutes: int = 30) -> list[datetime]:
    return [first + timedelta(minutes=minutes * i) for i in range(count)]


@pytest.fixture
def hold_minutes(settings):
    return settings.WAITLIST_HOLD_MINUTES
