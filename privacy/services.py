"""Consent and audit: the calls every app makes to check, record and withdraw consent."""

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Doctor, User
from accounts.permissions import acted_for_filter, can_act_for
from medplatform.errors import NotFound, ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.contract import purpose_rules
from privacy.models import AuditEntry, ConsentEvent, ConsentText, Purpose

SCOPED_PURPOSES = {Purpose.HEALTH_PROFILE_SHARE}


def consent_text_current(*, purpose: str, language: str = "tr") -> ConsentText:
    """The newest version of a purpose's notice, in the language asked for (Turkish if missing)."""
    texts = ConsentText.objects.filter(purpose=purpose).order_by("-version")
    newest = texts.first()
    if newest is None:
        raise NotFound()
    return (
        texts.filter(version=newest.version, language=language).first()
        or texts.filter(version=newest.version).order_by("-language").last()
    )


def current_version(purpose: str) -> int | None:
    newest = ConsentText.objects.filter(purpose=purpose).order_by("-version").values_list("version", flat=True)
    return newest.first()


def consent_active_grants(
    *, subject: User, purpose: str, doctor: Doctor | None = None, now: datetime | None = None
) -> QuerySet[ConsentEvent]:
    """Grants in force (at `now`, by default the present): not withdrawn, not expired, and given on
    the current notice version.

    The current version is a subquery, not a query of its own: `consent_hold` runs this on every
    write under a consent, and the notice may change between two of them."""
    newest = ConsentText.objects.filter(purpose=purpose).order_by("-version").values("version")[:1]
    grants = ConsentEvent.objects.filter(
        subject=subject,
        purpose=purpose,
        action=ConsentEvent.Action.GRANT,
        withdrawal__isnull=True,
        text_version=Subquery(newest),
    ).exclude(expires_at__lte=timezone.now() if now is None else now)
    if doctor is not None:
        grants = grants.filter(doctor=doctor)
    return grants


def consent_is_active(*, subject: User, purpose: str, doctor: Doctor | None = None) -> bool:
    return consent_active_grants(subject=subject, purpose=purpose, doctor=doctor).exists()


def _check_actor(actor: User | None, subject: User) -> User:
    """The one acting: the subject, or someone who may act for them (a guardian); else not found."""
    actor = actor or subject
    if actor.pk != subject.pk and not can_act_for(actor, subject.pk):
        raise NotFound()
    return actor


def consent_grant(
    *,
    subject: User,
    purpose: str,
    text_version: int,
    language: str,
    doctor: Doctor | None = None,
    categories: Iterable[str] = (),
    expires_at: datetime | None = None,
    context: ActContext = SYSTEM,
    actor: User | None = None,
) -> ConsentEvent:
    """Record a grant on the current notice version and run the purpose's on-grant step. `actor`
    is who gives it: the subject (the default) or their guardian; the event names both."""
    actor = _check_actor(actor, subject)
    if not subject.is_patient:
        raise ValidationFailed(fields={"purpose": [_("Only patients give consent here.")]})
    version = current_version(purpose)
    if version is None or text_version != version:
        raise ValidationFailed(
            fields={"text_version": [_("This notice version is not current; read the current text and try again.")]}
        )
    if purpose in SCOPED_PURPOSES and doctor is None:
        raise ValidationFailed(fields={"doctor": [_("Choose the doctor to share with.")]})
    if purpose not in SCOPED_PURPOSES and (doctor is not None or categories or expires_at):
        raise ValidationFailed(fields={"purpose": [_("This purpose takes no doctor, categories or expiry.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(fields={"expires_at": [_("The expiry must be in the future.")]})
    text = consent_text_current(purpose=purpose, language=language)
    with transaction.atomic():
        # Serialise grants of one subject so two concurrent requests cannot both pass the check.
        User.objects.select_for_update().filter(pk=subject.pk).first()
        in_force = consent_active_grants(subject=subject, purpose=purpose, doctor=doctor)
        if purpose in SCOPED_PURPOSES:
            # A new share with the same doctor replaces the one in force (other categories, another
            # end, or renewing one that ended after the last visit): the old grant is withdrawn
            # first, with its own withdrawal event, so one share per doctor is ever in force.
            for previous_id in list(in_force.values_list("id", flat=True)):
                consent_withdraw(subject=subject, grant_id=previous_id, context=context, actor=actor)
        elif in_force.exists():
            raise ValidationFailed(fields={"purpose": [_("This consent is already given.")]})
        event = ConsentEvent.objects.create(
            subject=subject,
            actor=actor,
            purpose=purpose,
            action=ConsentEvent.Action.GRANT,
            doctor=doctor,
            categories=sorted(set(categories)),
            expires_at=expires_at,
            text=text,
            text_version=text.version,
            text_language=text.language,
            text_hash=text.content_hash,
            channel=context.channel,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
        )
        on_grant = purpose_rules(purpose).on_grant
        if on_grant is not None:
            on_grant(event)
        audit_record(
            actor=actor,
            action=f"consent_granted:{purpose}",
            patient=subject,
            categories=event.categories,
            metadata={"consent": str(event.id), "doctor": str(doctor.id) if doctor else None},
            context=context,
        )
    return event


def consent_withdraw(
    *, subject: User, grant_id, context: ActContext = SYSTEM, actor: User | None = None
) -> ConsentEvent:
    """Withdraw a grant and run its cascade in the same transaction; done when this returns.
    `actor` is who withdraws it: the subject (the default) or their guardian."""
    actor = _check_actor(actor, subject)
    with transaction.atomic():
        grant = (
            ConsentEvent.objects.select_for_update()
            .filter(id=grant_id, subject=subject, action=ConsentEvent.Action.GRANT)
            .first()
        )
        if grant is None:
            raise NotFound()
        if ConsentEvent.objects.filter(grant=grant).exists():
            raise ValidationFailed(fields={"consent": [_("This consent is already withdrawn.")]})
        try:
            with transaction.atomic():
                withdrawal = ConsentEvent.objects.create(
                    subject=subject,
                    actor=actor,
                    purpose=grant.purpose,
                    action=ConsentEvent.Action.WITHDRAW,
                    grant=grant,
                    doctor=grant.doctor,
                    categories=grant.categories,
                    text=grant.text,
                    text_version=grant.text_version,
                    text_language=grant.text_language,
                    text_hash=grant.text_hash,
                    channel=context.channel,
                    ip_address=context.ip_address,
                    user_agent=context.user_agent,
                )
        except IntegrityError as exc:  # a concurrent withdrawal of the same grant
            raise ValidationFailed(fields={"consent": [_("This consent is already withdrawn.")]}) from exc
        counts = purpose_rules(grant.purpose).on_withdraw(grant) or {}
        audit_record(
            actor=actor,
            action=f"consent_withdrawn:{grant.purpose}",
            patient=subject,
            categories=grant.categories,
            metadata={"consent": str(grant.id), "withdrawal": str(withdrawal.id), **counts},
            context=context,
        )
    return withdrawal


def consent_subject(*, actor: User, grant_id) -> User:
    """Whose grant `grant_id` is, when `actor` may act for them (their own or a dependant's);
    else not_found."""
    grant = (
        ConsentEvent.objects.filter(acted_for_filter(actor, field="subject"), id=grant_id)
        .select_related("subject")
        .first()
    )
    if grant is None:
        raise NotFound()
    return grant.subject


def consent_list(*, subject: User) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(subject=subject, action=ConsentEvent.Action.GRANT)
        .select_related("withdrawal", "doctor")
        .order_by("-created_at")
    )


def audit_record(
    *,
    actor: User | None,
    action: str,
    patient: User | None,
    categories: Iterable[str] = (),
    metadata: dict | None = None,
    context: ActContext = SYSTEM,
) -> AuditEntry:
    """Append an audit entry. Pass ids and counts in metadata, never health values."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_role=actor.role if actor is not None else "system",
        action=action,
        patient=patient,
        categories=sorted(set(categories)),
        metadata=metadata or {},
        ip_address=context.ip_address,
        request_id=context.request_id,
    )
