"""Privacy's own contract: consent events, the audit trail and data-subject requests.

Consent events and audit entries are never destroyed by retention: they carry no health content
and are the proof of what was consented to and who touched which data (KVKK Art. 12).
"""

from privacy.contract import Contract
from privacy.models import AuditEntry, ConsentEvent, DataSubjectRequest
from privacy.retention import expired_privacy_requests


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


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
    retention={"privacy.closed_requests": expired_privacy_requests},
    export=privacy_export,
)
