"""Retention rules and the periodic destruction run (KVKK Art. 4 and the erasure regulation:
destruction at intervals of at most 6 months; Celery beat runs it daily and each run is logged).

Each app declares the rules for the data it owns in its privacy contract (`privacy.contract`;
privacy imports no domain app): `fn(now, *, dry_run=False) -> int` deletes what has outlived its
period at `now` and returns how many rows (with dry_run: counts them only).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from privacy.contract import RetentionRule, retention_rules
from privacy.models import DataSubjectRequest, DestructionRun

logger = logging.getLogger(__name__)


def registered_rules() -> dict[str, RetentionRule]:
    return retention_rules()


def delete_and_count(queryset, *, dry_run: bool) -> int:
    """Count (dry run) or delete the rows of `queryset`; the count is of its own model's rows."""
    if dry_run:
        return queryset.count()
    _total, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


def destruction_run(*, now, dry_run: bool = False) -> DestructionRun:
    """Run every rule, each in its own transaction; a failing rule is recorded and the others
    still run. Records one append-only DestructionRun; a dry run deletes nothing and returns an
    unsaved DestructionRun holding the counts."""
    started_at = timezone.now()
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, rule in sorted(retention_rules().items()):
        try:
            with transaction.atomic():
                counts[name] = int(rule(now, dry_run=dry_run))
        except Exception as exc:  # one broken rule must not stop the destruction of the rest
            errors[name] = type(exc).__name__
            logger.error("retention rule %s failed: %s", name, type(exc).__name__)
    run = DestructionRun(started_at=started_at, finished_at=timezone.now(), as_of=now, counts=counts, errors=errors)
    if not dry_run:
        run.save()
        logger.info("destruction run %s: %d rules, %d failed", run.pk, len(counts) + len(errors), len(errors))
    return run


# Privacy's own data. Consent events and audit entries are never destroyed here: they carry no
# health content and are the proof of what was consented to and who touched which data (KVKK
# Art. 12; the burden of proof for explicit consent is on us). Only closed data-subject requests
# go, once their retention period has passed.


def expired_privacy_requests(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.PRIVACY_REQUEST_RETENTION_DAYS)
    closed = DataSubjectRequest.objects.filter(
        status__in=[DataSubjectRequest.Status.ANSWERED, DataSubjectRequest.Status.REJECTED]
    )
    # A request closed without answered_at (should not happen) falls back to its last change.
    expired = closed.filter(Q(answered_at__lt=cutoff) | Q(answered_at__isnull=True, updated_at__lt=cutoff))
    return delete_and_count(expired, dry_run=dry_run)
