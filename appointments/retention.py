"""Retention of appointments data: idempotency records outlive their replay window by nothing."""

from appointments.models import IdempotencyRecord
from appointments.services import IDEMPOTENCY_WINDOW
from privacy import retention


def expired_idempotency_records(now, *, dry_run: bool = False) -> int:
    """A record older than the replay window (24 h) can no longer answer a retry."""
    expired = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_WINDOW)
    return retention.delete_and_count(expired, dry_run=dry_run)
