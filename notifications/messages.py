"""Message bodies, rendered at send time from templates in the recipient's language (tr/en).

Only display values reach a template: the recipient's first name, the clinic and doctor names and
the appointment's date and time in the clinic's time zone. A visit reason, exam type or anything
from a health profile can never get in, because `context_check` refuses any other key when the
outbox row is written.
"""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string

from notifications.models import Kind

ALLOWED_CONTEXT_KEYS = frozenset(
    {"clinic_name", "doctor_name", "start", "timezone", "appointment_id", "lead_minutes", "campaign_title"}
)

SUBJECTS = {
    "tr": {
        Kind.APPOINTMENT_BOOKED: "Randevunuz oluşturuldu",
        Kind.APPOINTMENT_RESCHEDULED: "Randevunuz değiştirildi",
        Kind.APPOINTMENT_CANCELLED_BY_CLINIC: "Randevunuz klinik tarafından iptal edildi",
        Kind.APPOINTMENT_CANCELLED_BY_PATIENT: "Randevunuz iptal edildi",
        Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR: "Bir randevu iptal edildi",
        Kind.APPOINTMENT_REMINDER: "Randevu hatırlatması",
        Kind.REVIEW_INVITATION: "Ziyaretinizi değerlendirin",
        Kind.MARKETING: "Medplatform",
        Kind.BREACH_NOTICE: "Kişisel verilerinizle ilgili bir bildirim",
    },
    "en": {
        Kind.APPOINTMENT_BOOKED: "Your appointment is booked",
        Kind.APPOINTMENT_RESCHEDULED: "Your appointment has moved",
        Kind.APPOINTMENT_CANCELLED_BY_CLINIC: "Your appointment was cancelled by the clinic",
        Kind.APPOINTMENT_CANCELLED_BY_PATIENT: "Your appointment is cancelled",
        Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR: "An appointment was cancelled",
        Kind.APPOINTMENT_REMINDER: "Appointment reminder",
        Kind.REVIEW_INVITATION: "Review your visit",
        Kind.MARKETING: "Medplatform",
        Kind.BREACH_NOTICE: "A notice about your personal data",
    },
}

DATE_FORMATS = {"tr": "%d.%m.%Y %H:%M", "en": "%d %b %Y, %H:%M"}


def context_check(context: dict) -> dict:
    """Refuse any key that is not a display value, so health data cannot enter the outbox."""
    unknown = set(context) - ALLOWED_CONTEXT_KEYS
    if unknown:
        raise ValueError(f"notification context keys not allowed: {sorted(unknown)}")
    return {key: (str(value) if value is not None else None) for key, value in context.items()}


def language_of(user) -> str:
    return user.language if user.language in SUBJECTS else "tr"


def local_time(start_iso: str | None, tz_name: str | None, language: str) -> str:
    if not start_iso:
        return ""
    try:
        tz = zoneinfo.ZoneInfo(tz_name or settings.DEFAULT_CLINIC_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE)
    return datetime.fromisoformat(start_iso).astimezone(tz).strftime(DATE_FORMATS[language])


def render(*, kind: str, language: str, first_name: str, context: dict) -> tuple[str, str]:
    """(subject, body) for one message."""
    values = {
        "first_name": first_name,
        "clinic_name": context.get("clinic_name") or "",
        "doctor_name": context.get("doctor_name") or "",
        "when": local_time(context.get("start"), context.get("timezone"), language),
        "campaign_title": context.get("campaign_title") or "",
    }
    body = render_to_string(f"notifications/messages/{language}/{kind}.txt", values)
    return SUBJECTS[language][kind], " ".join(body.split())
