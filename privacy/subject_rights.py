"""Data-subject rights (KVKK Art. 11): requests answered within 30 days, account erasure, and the
summary of what is processed about a person.

Erasure withdraws every active consent through `consent_withdraw`, so each purpose's registered
cascade runs (future appointments cancelled, visit reasons erased, health profile and shares
deleted, reviews deleted), then strips the account of personal data. Consent events and audit
entries stay: they are the legal proof and hold no health content.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.credentials import refresh_tokens_revoke
from accounts.models import User
from medplatform.date_fields import clinic_time
from medplatform.errors import ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.contract import erasure_steps, export_sections, summary_providers
from privacy.controller import controller_identity
from privacy.data_keys import data_keys_destroy
from privacy.guard import sensitive_read
from privacy.models import ConsentEvent, DataSubjectRequest, Purpose
from privacy.recipient_notices import ERASURE, RECTIFICATION, data_recipients, full_name, recipient_notices_send
from privacy.services import audit_record, consent_withdraw

RESPONSE_DAYS = 30


def privacy_request_create(*, subject: User, type: str, details: str = "") -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        subject=subject,
        type=type,
        details=details,
        due_date=(timezone.now() + timedelta(days=RESPONSE_DAYS)).date(),
    )


CLOSED_STATUSES = {DataSubjectRequest.Status.ANSWERED, DataSubjectRequest.Status.REJECTED}


def check_privacy_request_status(*, privacy_request: DataSubjectRequest, status: str) -> None:
    """An open request may be closed, as answered or rejected; a closed one stays closed."""
    if privacy_request.status != DataSubjectRequest.Status.OPEN or status not in CLOSED_STATUSES:
        raise ValidationFailed(fields={"status": [_("Only an open request can be closed, as answered or rejected.")]})


def privacy_request_update(
    *, privacy_request: DataSubjectRequest, actor: User, status: str, context: ActContext = SYSTEM
) -> DataSubjectRequest:
    """Close a data-subject request, stamp when it was answered and audit who changed it from what to
    what. An answered rectification request tells every doctor and clinic that received the data
    (privacy/recipient_notices.py)."""
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().get(pk=privacy_request.pk)
        check_privacy_request_status(privacy_request=locked, status=status)
        old_status = locked.status
        locked.status = status
        locked.answered_at = timezone.now()
        locked.save(update_fields=["status", "answered_at", "updated_at"])
        audit_record(
            actor=actor,
            action="privacy_request_status_changed",
            patient=locked.subject,
            metadata={"request": str(locked.pk), "type": locked.type, "from": old_status, "to": status},
            context=context,
        )
        if locked.type == DataSubjectRequest.Type.RECTIFICATION and status == DataSubjectRequest.Status.ANSWERED:
            subject = locked.subject
            recipient_notices_send(
                subject=subject,
                event=RECTIFICATION,
                recipients=data_recipients(subject),
                patient_name=full_name(subject),
                request_id=str(locked.pk),
                actor=actor,
                context=context,
            )
    return locked


def privacy_request_read(
    *, officer: User, privacy_request: DataSubjectRequest, context: ActContext = SYSTEM
) -> DataSubjectRequest:
    """The data-protection officer opens a request; its free text may hold health details, so the
    read is recorded in the subject's access log like any other."""
    sensitive_read(
        actor=officer,
        subject=privacy_request.subject,
        what="privacy_request_viewed",
        categories=["request_details"],
        metadata={"request": str(privacy_request.pk)},
        context=context,
    )
    return privacy_request


def account_erase(*, user: User, password: str, context: ActContext = SYSTEM) -> None:
    """Erase an account on its owner's request: every consent withdrawn with its cascade, each
    registered erasure step run, the personal fields stripped and every token revoked, in one
    transaction."""
    if not user.check_password(password):
        raise ValidationFailed(fields={"password": [_("The password is not correct.")]})
    with transaction.atomic():
        # Who received the data, and the name they know the patient by, before the cascade removes them.
        recipients, patient_name = data_recipients(user), full_name(user)
        active = ConsentEvent.objects.filter(
            subject=user, action=ConsentEvent.Action.GRANT, withdrawal__isnull=True
        ).values_list("id", flat=True)
        for grant_id in list(active):
            consent_withdraw(subject=user, grant_id=grant_id, context=context)
        for step in erasure_steps():
            step(user, context)
        refresh_tokens_revoke(user=user)
        user.email = f"erased-{user.pk}@erased.invalid"
        user.first_name = ""
        user.last_name = ""
        user.phone = ""
        user.national_id = None
        user.national_id_hash = None
        user.is_active = False
        user.erased_at = timezone.now()
        user.set_unusable_password()
        user.save()
        # Crypto-shredding: every data key of the account, so what backups hold of it is unreadable.
        keys_destroyed = data_keys_destroy(patient=user)
        audit_record(
            actor=user,
            action="account_erased",
            patient=user,
            metadata={"data_keys_destroyed": keys_destroyed},
            context=context,
        )
        recipient_notices_send(
            subject=user,
            event=ERASURE,
            recipients=recipients,
            patient_name=patient_name,
            actor=user,
            context=context,
        )


def privacy_summary(*, user: User) -> dict:
    """What is processed about the user, why, on which legal basis, and to whom it went."""
    grants = list(
        ConsentEvent.objects.filter(subject=user, action=ConsentEvent.Action.GRANT)
        .select_related("withdrawal", "doctor__user")
        .order_by("created_at")
    )
    processing = []
    for provider in summary_providers():
        processing.extend(provider(user))
    return {
        "user": str(user.pk),
        "controller": controller_identity(),
        "processing": processing,
        "consents": [
            {
                "id": str(grant.id),
                "purpose": grant.purpose,
                "purpose_label": str(Purpose(grant.purpose).label),
                "legal_basis": _("KVKK Art. 6: explicit consent"),
                "doctor": str(grant.doctor_id) if grant.doctor_id else None,
                "doctor_name": grant.doctor.name if grant.doctor_id else None,
                "granted_at": clinic_time(grant.created_at),
                "withdrawn_at": clinic_time(grant.withdrawal.created_at) if hasattr(grant, "withdrawal") else None,
                "text_version": grant.text_version,
            }
            for grant in grants
        ],
        "rights": _(
            "You may ask what we process, have it corrected or erased, and object (KVKK Art. 11); "
            "we answer within 30 days."
        ),
    }


def export_document(*, user: User) -> dict:
    """The JSON access export (KVKK Art. 11): every registered app's section about the user.

    Each section is the app's own account of what it holds (privacy's own: consents, the access
    log and data-subject requests); nothing here knows the apps."""
    document = {"exported_at": clinic_time(timezone.now())}
    for app, section in export_sections().items():
        part = section(user)
        clash = set(part) & set(document)
        if clash:
            raise RuntimeError(f"export section of {app} repeats {sorted(clash)}")
        document.update(part)
    return document
