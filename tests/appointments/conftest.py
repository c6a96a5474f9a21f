"""Schedules, consent and time helpers shared by the appointment tests."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Doctor
from appointments.demo import create_demo_schedule
from appointments.models import Appointment, VisitType
from appointments.services import appointment_book
from privacy.models import Purpose
from privacy.services import consent_grant, current_version

ISTANBUL = ZoneInfo("Europe/Istanbul")


def grant_booking_consent(patient):
    purpose = Purpose.APPOINTMENT_HEALTH_DATA
    return consent_grant(subject=patient, purpose=purpose, text_version=current_version(purpose), language="tr")


def working_day(days_ahead: int = 7) -> date:
    """A Monday-to-Friday date at least `days_ahead` days from today (inside the 90-day horizon)."""
    day = timezone.localdate(timezone=ISTANBUL) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = ISTANBUL) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def book(patient, doctor: Doctor, start: datetime, **extra) -> Appointment:
    appointment, _ = appointment_book(
        patient=patient, doctor=doctor, start=start, visit_reason=extra.pop("visit_reason", "baş ağrısı"), **extra
    )
    return appointment


@pytest.fixture
def schedule_x(doctor_x, clinic_x):
    """doctor_x at clinic_x: weekdays 09:00–17:00, 30-minute slots, lunch 12:30–13:30 (Istanbul)."""
    create_demo_schedule(doctor_x, clinic_x)
    return doctor_x


@pytest.fixture
def schedule_y(doctor_y, clinic_y):
    create_demo_schedule(doctor_y, clinic_y)
    return doctor_y


@pytest.fixture
def ayse(patient_ayse):
    grant_booking_consent(patient_ayse)
    return patient_ayse


@pytest.fixture
def mehmet(patient_mehmet):
    grant_booking_consent(patient_mehmet)
    return patient_mehmet


@pytest.fixture
def day():
    return working_day()


@pytest.fixture
def booked(ayse, schedule_x, day):
    """Ayşe's in-person appointment with doctor_x at 10:00 a week ahead."""
    return book(ayse, schedule_x, at(day, 10), exam_type="EKG", visit_type=VisitType.IN_PERSON)
