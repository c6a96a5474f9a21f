"""Which appointments are due a reminder: the selection half of the reminder beat task.

`appointments.tasks.send_due_reminders` calls `reminders_due(now=..., leads=...)` every minute and
passes the result to `notifications.services.reminders_create_due`, which writes the outbox rows
idempotently. Only booked appointments are selected, so a cancelled one never gets a reminder;
`booked_at` is the time of the booking or of the last reschedule.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max, Q

from appointments.models import Appointment
from notifications.services import ReminderDue


def reminders_due(*, now: datetime, leads: Iterable[timedelta]) -> list[ReminderDue]:
    leads = sorted(leads)
    if not leads:
        return []
    appointments = (
        Appointment.objects.filter(status=Appointment.Status.BOOKED, start__gt=now, start__lte=now + leads[-1])
        .select_related("clinic", "doctor__user")
        # Never load the encrypted visit reason or exam type: reminders carry none of it.
        .only(
            "id",
            "patient_id",
            "start",
            "clinic__name",
            "clinic__timezone",
            "doctor__title",
            "doctor__user__first_name",
            "doctor__user__last_name",
        )
        .annotate(booked_at=Max("history__at", filter=Q(history__to_status=Appointment.Status.BOOKED)))
        .order_by("start")
    )
    return [
        ReminderDue(
            appointment_id=appointment.id,
            recipient_id=appointment.patient_id,
            start=appointment.start,
            clinic_name=appointment.clinic.name,
            timezone=appointment.clinic.timezone,
            lead=lead,
            doctor_name=f"{appointment.doctor.title} {appointment.doctor.user.full_name}".strip(),
            booked_at=appointment.booked_at,
        )
        for appointment in appointments
        for lead in leads
        if appointment.start - lead <= now
    ]
