"""Celery tasks: ids in, services do the work. Nothing here carries personal or health data."""

from celery import shared_task
from django.utils import timezone

from notifications import services


@shared_task(name="notifications.tasks.send_notification", acks_late=True, reject_on_worker_lost=True)
def send_notification(notification_id: str) -> str:
    return services.notification_dispatch(notification_id=notification_id)


@shared_task(name="notifications.tasks.drain_outbox", acks_late=True, reject_on_worker_lost=True)
def drain_outbox() -> int:
    return services.notifications_drain()


@shared_task(name="notifications.tasks.sweep_outbox", acks_late=True)
def sweep_outbox() -> dict:
    return services.notifications_sweep(now=timezone.now())
