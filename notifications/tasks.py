"""Celery tasks: ids in, services do the work. Nothing here carries personal or health data."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications import services

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.send_notification", acks_late=True, reject_on_worker_lost=True)
def send_notification(notification_id: str) -> str:
    return services.notification_dispatch(notification_id=notification_id)


@shared_task(name="notifications.tasks.sweep_outbox", acks_late=True)
def sweep_outbox() -> dict:
    return services.notifications_sweep(now=timezone.now())


@shared_task(name="notifications.tasks.send_due_reminders", acks_late=True)
def send_due_reminders() -> int:
    """Beat task: select appointments whose reminder time has come and write their outbox rows."""
    try:
        from appointments import reminders
    except ImportError:
        logger.warning("appointments.reminders is not available yet; no reminders selected")
        return 0
    from datetime import timedelta

    now = timezone.now()
    leads = [timedelta(minutes=minutes) for minutes in settings.NOTIFICATIONS_REMINDER_LEADS_MINUTES]
    due = reminders.reminders_due(now=now, leads=leads)
    return len(services.reminders_create_due(now=now, due=due))
