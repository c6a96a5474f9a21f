"""Building blocks for health-profile tests: consents given through the real service, entries
written through the real service, and a profile with one entry of each category."""

import datetime

from accounts.models import Doctor, User
from appointments.models import Appointment
from health_profiles import services
from health_profiles.models import HealthEntry
from privacy.models import ConsentEvent, Purpose
from privacy.services import consent_grant, current_version

# Names distinctive enough to search for in dumps and logs.
ENTRY_VALUES = {
    "allergy": {
        "name": "Penisilin-alerjisi-ZQX",
        "details": "Kurdeşen-ZQX",
        "reaction": "Nefes-darligi-ZQX",
        "severity": "severe",
    },
    "medication": {"name": "Metformin-ZQX", "details": "Yemekle-ZQX", "dose": "500mg-ZQX", "frequency": "2x-ZQX"},
    "condition": {"name": "Tip2-diyabet-ZQX", "details": "Kontrol-ZQX", "diagnosed_on": datetime.date(2019, 4, 2)},
    "treatment": {
        "name": "Fizik-tedavi-ZQX",
        "details": "Diz-ZQX",
        "started_on": datetime.date(2024, 1, 8),
        "ended_on": datetime.date(2024, 3, 1),
    },
}
# A share names its categories explicitly (API.md); this is "all of them", chosen one by one.
ALL_CATEGORIES = ["allergy", "medication", "condition", "treatment"]
PLAINTEXTS = [
    value for values in ENTRY_VALUES.values() for value in values.values() if isinstance(value, str) and "ZQX" in value
]


def grant(patient: User, purpose: str, **scope) -> ConsentEvent:
    return consent_grant(
        subject=patient, purpose=purpose, text_version=current_version(purpose), language="tr", **scope
    )


def grant_storage(patient: User) -> ConsentEvent:
    return grant(patient, Purpose.HEALTH_PROFILE_STORAGE)


def share_with(patient: User, doctor: Doctor, **scope) -> ConsentEvent:
    return grant(patient, Purpose.HEALTH_PROFILE_SHARE, doctor=doctor, **scope)


def add_entry(patient: User, category: str, **overrides) -> HealthEntry:
    values = {**ENTRY_VALUES[category], **overrides}
    return services.entry_create(patient=patient, category=category, values=values)


def full_profile(patient: User) -> dict[str, HealthEntry]:
    """Storage consent plus one entry per category."""
    grant_storage(patient)
    return {category: add_entry(patient, category) for category in ENTRY_VALUES}


def appointment_row(patient: User, doctor: Doctor, clinic, *, days_ahead: int, visit_reason: str, exam_type: str):
    """A booked appointment written straight to the table (set-up for export and dump tests; the
    booking rules themselves are tested in tests/appointments)."""
    from django.utils import timezone

    from appointments.models import Appointment

    start = timezone.now() + datetime.timedelta(days=days_ahead)
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        clinic=clinic,
        start=start,
        end=start + datetime.timedelta(minutes=30),
        visit_reason=visit_reason,
        exam_type=exam_type,
    )


def visit(patient, doctor, start: datetime.datetime, status: str = Appointment.Status.COMPLETED) -> Appointment:
    """An appointment row written straight to the table (set-up: booking rules are tested in
    tests/appointments; here only its start, doctor and status matter)."""
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        clinic=doctor.clinics.first(),
        start=start,
        end=start + datetime.timedelta(minutes=30),
        status=status,
    )
