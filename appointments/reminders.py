"""Which appointments are due a reminder: the selection half of the reminder beat task.

`appointments.tasks.send_due_reminders` calls `reminders_due(now=..., leads=...)` every minute and
passes the result to `notifications.services.reminders_create_due`, which writes the outbox rows
idempotently. Only booked appointments are selected, so a cancelled one never gets a reminder;
`booked_at` is the time of the booking or of the last reschedule.

A visit waiting for its confirmation (appointments/confirmation.py) also gets the confirmation
request: a reminder CONFIRMATION_REQUEST_HOURS before the deadline, and every reminder before the
deadline asks to confirm or cancel (`confirm_by`).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q

from appointments.models import Appointment
from notifications.services import ReminderDue


def _awaiting(appointment: Appointment, now: datetime) -> datetime | None:
    if appointment.confirmation_due is None or appointment.confirmed_at is not None:
        return None
    return appointment.confirmation_due if appointment.confirmation_due > now else None


def reminders_due(*, now: datetime, leads: Iterable[timedelta]) -> list[ReminderDue]:
    leads = sorted(leads)
    request = timedelta(hours=settings.CONFIRMATION_REQUEST_HOURS)
    window = Q(start__gt=now, start__lte=now + leads[-1]) if leads else Q(pk__in=[])
    # the confirmation request is due from `request` before the deadline until the deadline
    asking = Q(
        confirmation_due__isnull=False,
        confirmed_at__isnull=True,
        confirmation_due__gt=now,
        confirmation_due__lte=now + request,
    )
    appointments = (
        Appointment.objects.filter(window | asking, status=Appointment.Status.BOOKED)
        .select_related("clinic", "doctor__user")
        # Never load the encrypted visit reason or exam type: reminders carry none of it.
        .only(
            "id",
            "patient_id",
            "start",
            "confirmation_due",
            "confirmed_at",
            "clinic__name",
            "clinic__timezone",
            "doctor__title",
            "doctor__user__first_name",
            "doctor__user__last_name",
        )
        .annotate(booked_at=Max("history__at", filter=Q(history__to_status=Appointment.Status.BOOKED)))
        .order_by("start")
    )
    due = []
    for appointment in appointments:
        confirm_by = _awaiting(appointment, now)
        appointment_leads = [lead for lead in leads if appointment.start - lead <= now]
        if confirm_by is not None and confirm_by - request <= now:
            appointment_leads.append(appointment.start - (confirm_by - request))
        due += [
            ReminderDue(
                appointment_id=appointment.id,
                recipient_id=appointment.patient_id,
                start=appointment.start,
                clinic_name=appointment.clinic.name,
                timezone=appointment.clinic.timezone,
                lead=lead,
                doctor_name=f"{appointment.doctor.title} {appointment.doctor.user.full_name}".strip(),
                booked_at=appointment.booked_at,
                confirm_by=confirm_by,
            )
            for lead in appointment_leads
        ]
    return due
