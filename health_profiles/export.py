"""The JSON export: everything the platform holds about one patient (KVKK Art. 11 access)."""

from django.utils import timezone

from accounts.models import User
from health_profiles.models import HealthEntry, ShareGrant
from health_profiles.selectors import grouped
from health_profiles.serializers import grouped_output
from privacy.models import AuditEntry, ConsentEvent


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def appointment_as_dict(appointment) -> dict:
    """Only the fields the appointments model has; it is built in parallel with this app."""
    doctor = getattr(appointment, "doctor", None)
    clinic = getattr(appointment, "clinic", None)
    return {
        "id": str(appointment.pk),
        "doctor": str(doctor.pk) if doctor is not None else None,
        "doctor_name": getattr(doctor, "name", None),
        "clinic": str(clinic.pk) if clinic is not None else None,
        "clinic_name": getattr(clinic, "name", None),
        "start": _iso(getattr(appointment, "start", None)),
        "end": _iso(getattr(appointment, "end", None)),
        "status": getattr(appointment, "status", None),
        "visit_type": getattr(appointment, "visit_type", None),
        "visit_reason": getattr(appointment, "visit_reason", None),
        "exam_type": getattr(appointment, "exam_type", None),
    }


def json_document(*, patient: User, entries: list[HealthEntry], appointments: list) -> dict:
    consents = ConsentEvent.objects.filter(subject=patient).order_by("created_at", "id")
    shares = ShareGrant.objects.filter(patient=patient).select_related("doctor__user").order_by("created_at", "id")
    audit = AuditEntry.objects.filter(patient=patient).order_by("at", "id")
    return {
        "exported_at": timezone.now().isoformat(),
        "patient": {
            "id": str(patient.pk),
            "email": patient.email,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "phone": str(patient.phone) if patient.phone else "",
            "language": patient.language,
            "national_id": patient.national_id,
        },
        "health_profile": grouped_output(grouped(entries)),
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
        "shares": [
            {
                "doctor": str(share.doctor_id),
                "doctor_name": share.doctor.name,
                "categories": share.effective_categories,
                "expires_at": _iso(share.expires_at),
                "consent": str(share.consent_id),
            }
            for share in shares
        ],
        "appointments": [appointment_as_dict(appointment) for appointment in appointments],
        "access_log": [
            {
                "actor_role": entry.actor_role,
                "action": entry.action,
                "categories": entry.categories,
                "at": _iso(entry.at),
            }
            for entry in audit
        ],
    }
