"""Retention of waitlist data (privacy.contract.RetentionRule; the table is docs/retention.md):
an entry that ended (claimed, expired, left), with its offers, is deleted WAITLIST_RETENTION_DAYS
after it ended; an entry still waiting lives until its last day has passed (the sweeper then
expires it) or the booking consent is withdrawn."""

from datetime import timedelta

from django.conf import settings

from privacy import retention
from waitlist.models import WaitlistEntry


def ended_entries(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.WAITLIST_RETENTION_DAYS)
    ended = WaitlistEntry.objects.exclude(status__in=WaitlistEntry.ACTIVE).filter(updated_at__lt=cutoff)
    return retention.delete_and_count(ended, dry_run=dry_run)
