"""Retention of the no-show record (privacy.contract.RetentionRule; the table is docs/retention.md).

- strikes and their appeals: deleted NO_SHOW_WINDOW_DAYS after the strike, when it can no longer
  count towards a block (a block it earned lives on the ClinicStanding row);
- the blocks (ClinicStanding rows): deleted at the first daily run after the block ended (a row
  with no block running is remade, under its lock, by the next strike).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from privacy import retention
from standing.models import ClinicStanding, Strike


def expired_strikes(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.NO_SHOW_WINDOW_DAYS)
    return retention.delete_and_count(Strike.objects.filter(at__lt=cutoff), dry_run=dry_run)


def ended_blocks(now, *, dry_run: bool = False) -> int:
    ended = ClinicStanding.objects.filter(Q(blocked_until__isnull=True) | Q(blocked_until__lte=now))
    return retention.delete_and_count(ended, dry_run=dry_run)
