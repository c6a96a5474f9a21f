"""Retention of appointments data (privacy.contract.RetentionRule; the table is docs/retention.md).

- visit reason and exam type: erased VISIT_REASON_RETENTION_DAYS after the visit ended. They are
  the booking's note to the doctor, not the medical record: that is the clinic's own, kept under
  its own duties; our copy serves the visit, the patient's history and a complaint about it;
- appointments (time, doctor, clinic, status, history): deleted APPOINTMENT_RETENTION_DAYS after
  the visit (10 years: the general limitation period of the Turkish Code of Obligations, Art. 146,
  for claims arising from the booking); one that still has a review waits for the review's rule;
- appointments of erased accounts: anonymised at the first run after the erasure: nothing left that
  the patient wrote (status-change reasons, visit reason), nor who acted;
- idempotency records: 24 h (the replay window);
- doctors' time off: TIME_OFF_RETENTION_DAYS after it ended;
- flags of unclear replies to a confirmation request (no text): CONFIRMATION_REPLY_FLAG_RETENTION_DAYS
  after the reply (the clinic has called the patient long before).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from appointments.models import Appointment, AppointmentStatusChange, IdempotencyRecord, TimeOff, UnclearReply
from appointments.services import IDEMPOTENCY_WINDOW
from privacy import retention


def expired_idempotency_records(now, *, dry_run: bool = False) -> int:
    """A record older than the replay window (24 h) can no longer answer a retry."""
    expired = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_WINDOW)
    return retention.delete_and_count(expired, dry_run=dry_run)


def expired_visit_reasons(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.VISIT_REASON_RETENTION_DAYS)
    kept = Appointment.objects.filter(end__lt=cutoff).filter(Q(visit_reason__isnull=False) | Q(exam_type__isnull=False))
    if dry_run:
        return kept.count()
    return kept.update(visit_reason=None, exam_type=None)


def expired_appointments(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.APPOINTMENT_RETENTION_DAYS)
    expired = Appointment.objects.filter(end__lt=cutoff, review__isnull=True)
    return retention.delete_and_count(expired, dry_run=dry_run)


def erased_accounts_appointments(now, *, dry_run: bool = False) -> int:
    """Appointments of erased accounts stay for the doctor's agenda and the clinic's books, but
    with nothing that came from or points to the patient beyond the emptied account row."""
    of_erased = Appointment.objects.filter(patient__erased_at__isnull=False, patient__erased_at__lte=now)
    traces = AppointmentStatusChange.objects.filter(appointment=OuterRef("pk")).filter(
        ~Q(reason="") | Q(actor_id=OuterRef("patient_id"))
    )
    left = of_erased.filter(
        Q(visit_reason__isnull=False) | Q(exam_type__isnull=False) | Q(meeting_room__isnull=False) | Exists(traces)
    )
    if dry_run:
        return left.count()
    ids = list(left.values_list("id", flat=True))
    Appointment.objects.filter(pk__in=ids).update(visit_reason=None, exam_type=None, meeting_room=None)
    history = AppointmentStatusChange.objects.filter(appointment_id__in=ids)
    history.exclude(reason="").update(reason="")
    for appointment_id, patient_id in Appointment.objects.filter(pk__in=ids).values_list("id", "patient_id"):
        history.filter(appointment_id=appointment_id, actor_id=patient_id).update(actor=None)
    return len(ids)


def expired_time_off(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.TIME_OFF_RETENTION_DAYS)
    return retention.delete_and_count(TimeOff.objects.filter(end__lt=cutoff), dry_run=dry_run)


def expired_unclear_replies(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.CONFIRMATION_REPLY_FLAG_RETENTION_DAYS)
    return retention.delete_and_count(UnclearReply.objects.filter(created_at__lt=cutoff), dry_run=dry_run)
