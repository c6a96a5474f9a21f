"""Retention rules and the periodic destruction run (KVKK Art. 4 and the erasure regulation:
destruction at intervals of at most 6 months; Celery beat runs it daily and each run is logged).

Each app declares the rules for the data it owns in its privacy contract (`privacy.contract`;
privacy imports no domain app): `fn(now, *, dry_run=False) -> int` deletes what has outlived its
period at `now` and returns how many rows (with dry_run: counts them only).
"""

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from privacy.contract import RetentionRule, retention_rules
from privacy.models import (
    AuditEntry,
    BreachRecord,
    ConsentEvent,
    DataSubjectRequest,
    DestructionPermit,
    DestructionRun,
)

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
        if rule.run is None:
            continue  # event-driven: the cascade that ends it runs when the event happens
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
        for name, count in sorted(counts.items()):
            logger.info("destruction run %s: %s %d", run.pk, name, count)
    return run


def destruction_plan(*, now) -> list[dict]:
    """What a run at `now` would do, rule by rule: kind, period, cutoff and how many rows; deletes
    nothing (each rule counts in a dry run)."""
    counts = destruction_run(now=now, dry_run=True)
    plan = []
    for name, rule in sorted(retention_rules().items()):
        cutoff = rule.cutoff(now)
        plan.append(
            {
                "rule": name,
                "kind": str(rule.kind),
                "period": rule.period_label(),
                "cutoff": cutoff.isoformat() if cutoff is not None else None,
                "count": counts.counts.get(name),
                "error": counts.errors.get(name),
            }
        )
    return plan


@contextmanager
def permitted_deletion(table: str):
    """Let this transaction delete rows of an append-only table (see privacy.append_only); the
    permit row never commits, so no other connection sees it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("permitted_deletion outside a transaction")
    DestructionPermit.objects.create(table=table)
    try:
        yield
    finally:
        DestructionPermit.objects.filter(table=table).delete()


def retention_table() -> list[dict]:
    """The published retention table (GET /api/v1/privacy/retention/, docs/retention.md)."""
    return [
        {
            "rule": name,
            "kind": str(rule.kind),
            "period": rule.period_label(),
            "period_days": rule.days(),
            "period_setting": rule.period_setting,
            "from_event": str(rule.from_event),
            "action": rule.action,
            "action_label": str(RetentionRule.action_label(rule.action)),
            "periodic": rule.run is not None,
        }
        for name, rule in sorted(retention_rules().items())
    ]


# Privacy's own data. Consent events and audit entries carry no health content and are the proof
# of what was consented to and who touched which data (KVKK Art. 12; the burden of proof for
# explicit consent is on us): they stay for AUDIT_RETENTION_DAYS / CONSENT_PROOF_RETENTION_DAYS
# (10 years: the general limitation period of the Turkish Code of Obligations, Art. 146, and the
# longest within which a claim about a processing can be brought, Art. 72), then go. Closed
# data-subject requests go once their own period has passed.


def expired_audit_entries(now, *, dry_run: bool = False) -> int:
    expired = AuditEntry.objects.filter(at__lt=now - timedelta(days=settings.AUDIT_RETENTION_DAYS))
    if dry_run:
        return expired.count()
    with permitted_deletion(AuditEntry._meta.db_table):
        return delete_and_count(expired, dry_run=False)


def expired_consent_proof(now, *, dry_run: bool = False) -> int:
    """A consent ended (withdrawn, or past its own expiry) more than the period ago: its grant and
    its withdrawal go together. A consent still in force is never touched, however old."""
    cutoff = now - timedelta(days=settings.CONSENT_PROOF_RETENTION_DAYS)
    withdrawals = ConsentEvent.objects.filter(action=ConsentEvent.Action.WITHDRAW, created_at__lt=cutoff)
    grants = ConsentEvent.objects.filter(action=ConsentEvent.Action.GRANT).filter(
        Q(withdrawal__in=withdrawals) | Q(withdrawal__isnull=True, expires_at__lt=cutoff)
    )
    # A share grant row still pointing at the consent keeps it (the share's own rule removes it first).
    grants = grants.filter(share_grant__isnull=True)
    grant_ids = list(grants.values_list("id", flat=True))
    ended = ConsentEvent.objects.filter(Q(pk__in=grant_ids) | Q(grant_id__in=grant_ids))
    if dry_run:
        return ended.count()
    with permitted_deletion(ConsentEvent._meta.db_table):
        gone = delete_and_count(ConsentEvent.objects.filter(grant_id__in=grant_ids), dry_run=False)
        return gone + delete_and_count(ConsentEvent.objects.filter(pk__in=grant_ids), dry_run=False)


def expired_privacy_requests(now, *, dry_run: bool = False) -> int:
    cutoff = now - timedelta(days=settings.PRIVACY_REQUEST_RETENTION_DAYS)
    closed = DataSubjectRequest.objects.filter(
        status__in=[DataSubjectRequest.Status.ANSWERED, DataSubjectRequest.Status.REJECTED]
    )
    # A request closed without answered_at (should not happen) falls back to its last change.
    expired = closed.filter(Q(answered_at__lt=cutoff) | Q(answered_at__isnull=True, updated_at__lt=cutoff))
    return delete_and_count(expired, dry_run=dry_run)


def retention_markdown() -> str:
    """The table of docs/retention.md, in English (tests/privacy/test_retention_table.py checks
    that the document holds exactly this)."""
    lines = [
        "| rule | kind of data | kept | from | then | setting |",
        "|---|---|---|---|---|---|",
    ]
    for row in retention_table():
        lines.append(
            f"| `{row['rule']}` | {row['kind']} | {row['period']} | {row['from_event']} | {row['action_label']} "
            f"| {'`' + row['period_setting'] + '`' if row['period_setting'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def expired_breach_records(now, *, dry_run: bool = False) -> int:
    """Closed breach entries, BREACH_RETENTION_DAYS after closing: the proof that the Board and the
    people were told in time (categories and counts only; the recording officer is the person)."""
    cutoff = now - timedelta(days=settings.BREACH_RETENTION_DAYS)
    expired = BreachRecord.objects.filter(state=BreachRecord.State.CLOSED, closed_at__lt=cutoff)
    return delete_and_count(expired, dry_run=dry_run)
