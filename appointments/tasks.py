"""Celery tasks of the appointments app: arguments are ids or nothing, services do the work."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from appointments import availability_index
from appointments.confirmation import appointments_release_due
from appointments.reminders import reminders_due
from notifications.services import reminders_create_due


@shared_task(name="appointments.tasks.send_due_reminders", acks_late=True)
def send_due_reminders() -> int:
    """Beat task: select appointments whose reminder time has come and write their outbox rows
    (appointments tells notifications; notifications never reads appointments)."""
    now = timezone.now()
    leads = [timedelta(minutes=minutes) for minutes in settings.NOTIFICATIONS_REMINDER_LEADS_MINUTES]
    return len(reminders_create_due(now=now, due=reminders_due(now=now, leads=leads)))


@shared_task(name="appointments.tasks.roll_availability", acks_late=True)
def roll_availability() -> int:
    """Beat task, daily: the availability index gains the days entering the booking window and
    drops the days gone by. Returns the rows written."""
    return availability_index.roll()


@shared_task(name="appointments.tasks.release_unconfirmed", acks_late=True)
def release_unconfirmed() -> int:
    """Beat task: release the in-person visits not confirmed by their clinic's deadline (never an
    exempt patient's). Returns how many were released."""
    return appointments_release_due()
