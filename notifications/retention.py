"""Retention of the notification outbox: rows in a final state go after
NOTIFICATION_RETENTION_DAYS; pending and sending rows are never touched."""

from datetime import timedelta

from django.conf import settings

from notifications.models import Notification, Status
from privacy import retention

FINAL_STATUSES = [Status.SENT, Status.DELIVERED, Status.FAILED, Status.UNDELIVERED]


def expired_notifications(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    expired = Notification.objects.filter(status__in=FINAL_STATUSES, created_at__lt=cutoff)
    return retention.delete_and_count(expired, dry_run=dry_run)
