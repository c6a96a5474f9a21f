"""Privacy's own contract: consent events, the audit trail and data-subject requests.

Consent events and audit entries carry no health content and are the proof of what was consented
to and who touched which data (KVKK Art. 12): they are kept 10 years (privacy.retention says why).
"""

import datetime

from django.utils.translation import gettext_lazy as _

from medplatform.date_fields import clinic_time
from privacy.contract import Contract, RetentionAction, RetentionRule
from privacy.models import AuditEntry, ConsentEvent, DataSubjectRequest
from privacy.retention import (
    expired_audit_entries,
    expired_breach_records,
    expired_consent_proof,
    expired_privacy_requests,
)

RETENTION = {
    "privacy.closed_requests": RetentionRule(
        kind=_("Data-subject requests (access, correction, erasure, objection) and their answers"),
        models=("privacy.DataSubjectRequest",),
        from_event=_("the answer (or refusal) of the request"),
        action=RetentionAction.DESTROY,
        period_setting="PRIVACY_REQUEST_RETENTION_DAYS",
        run=expired_privacy_requests,
    ),
    "privacy.audit_entries": RetentionRule(
        kind=_("Access log and audit trail: who read or changed which of your data, when (no health content)"),
        models=("privacy.AuditEntry",),
        from_event=_("the entry"),
        action=RetentionAction.DESTROY,
        period_setting="AUDIT_RETENTION_DAYS",
        run=expired_audit_entries,
    ),
    "privacy.consent_proof": RetentionRule(
        kind=_("Consent records: what you agreed to, which notice version, when and how you withdrew"),
        models=("privacy.ConsentEvent",),
        from_event=_("the end of the consent (withdrawal or expiry); kept while the consent is in force"),
        action=RetentionAction.DESTROY,
        period_setting="CONSENT_PROOF_RETENTION_DAYS",
        run=expired_consent_proof,
    ),
    "privacy.breach_register": RetentionRule(
        kind=_("Breach register entries (categories and counts; the officer who recorded them)"),
        models=("privacy.BreachRecord",),
        from_event=_("the closing of the entry"),
        action=RetentionAction.DESTROY,
        period_setting="BREACH_RETENTION_DAYS",
        run=expired_breach_records,
    ),
    # docs/encryption.md: the key is destroyed (emptied) with the data it protects; the emptied
    # row keeps ids and times only.
    "privacy.data_keys": RetentionRule(
        kind=_("Your own encryption keys, which protect your health and identity data (wrapped, never readable)"),
        models=("privacy.PatientDataKey",),
        from_event=_("the erasure of the account, or for the health profile the withdrawal of the storage consent"),
        action=RetentionAction.DESTROY,
        period_text=_("while the data they protect is kept; destroyed with it"),
        run=None,
    ),
}


def _iso(value) -> str | None:
    if value is None:
        return None
    return clinic_time(value) if isinstance(value, datetime.datetime) else value.isoformat()


def privacy_export(user) -> dict:
    consents = ConsentEvent.objects.filter(subject=user).order_by("created_at", "id")
    audit = AuditEntry.objects.filter(patient=user).select_related("actor").order_by("at", "id")
    requests = DataSubjectRequest.objects.filter(subject=user).order_by("created_at", "id")
    return {
        "consents": [
            {
                "id": str(event.id),
                "purpose": event.purpose,
                "action": event.action,
                # who gave or withdrew it when not the person themself: their guardian
                "actor": str(event.actor_id) if event.actor_id else None,
                "grant": str(event.grant_id) if event.grant_id else None,
                "doctor": str(event.doctor_id) if event.doctor_id else None,
                "categories": event.categories,
                "expires_at": _iso(event.expires_at),
                "text_version": event.text_version,
                "text_language": event.text_language,
                "channel": event.channel,
                "at": _iso(event.created_at),
            }
            for event in consents
        ],
        "access_log": [
            {
                "actor": entry.actor.full_name if entry.actor_id and entry.actor_id != user.pk else None,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "categories": entry.categories,
                "at": _iso(entry.at),
            }
            for entry in audit
        ],
        "privacy_requests": [
            {
                "id": str(request.id),
                "type": request.type,
                "details": request.details,
                "status": request.status,
                "due_date": request.due_date.isoformat(),
                "answered_at": _iso(request.answered_at),
                "created_at": _iso(request.created_at),
            }
            for request in requests
        ],
    }


CONTRACT = Contract(
    app="privacy",
    retention=RETENTION,
    export=privacy_export,
    not_personal={"privacy.EncryptionCanary": "one fixed known value, encrypted to check the key at start-up"},
)
