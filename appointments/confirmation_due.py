"""When a visit must be confirmed by (docs/confirmation.md): the deadline rule, used at booking and
at a reschedule (appointments.services) and by the release (appointments.confirmation)."""

from datetime import date, datetime, time, timedelta

from django.conf import settings

from accounts.exemptions import is_exempt
from accounts.models import Clinic, User
from appointments.availability import zone
from appointments.models import VisitType


def visit_day(appointment_start: datetime, clinic: Clinic) -> date:
    return appointment_start.astimezone(zone(clinic.timezone)).date()


def deadline_for(*, clinic: Clinic, start: datetime) -> datetime:
    """`confirmation_hour` o'clock, in the clinic's time zone, of the day before the visit."""
    day_before = visit_day(start, clinic) - timedelta(days=1)
    return datetime.combine(day_before, time(clinic.confirmation_hour), tzinfo=zone(clinic.timezone))


def confirmation_due_for(
    *, clinic: Clinic, patient: User, start: datetime, visit_type: str, now: datetime
) -> datetime | None:
    """When a visit booked (or moved) `now` is released unless confirmed; None when it needs no
    confirmation: the clinic does not ask, an online visit, an exempt patient, or booked after the
    confirmation request would have gone out (the booking itself is the patient's word)."""
    if not clinic.requires_confirmation or visit_type != VisitType.IN_PERSON:
        return None
    due = deadline_for(clinic=clinic, start=start)
    if now >= due - timedelta(hours=settings.CONFIRMATION_REQUEST_HOURS):
        return None
    if is_exempt(patient, clinic, on=visit_day(start, clinic)):
        return None
    return due
