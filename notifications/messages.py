"""Message bodies, rendered at send time from templates in the recipient's language (tr/en).

Only display values reach a template: the clinic and doctor names, the appointment's date and
time in the clinic's time zone and, in e-mails only, the recipient's first name (and, in a notice
to a doctor or clinic that received a patient's data, that patient's name). A visit reason,
exam type or anything from a health profile can never get in, because `context_check` refuses any
other key when the outbox row is written.

SMS and WhatsApp (and the console channel standing in for them) use the short templates under
`<language>/short/`, rendered without any name: a text a user or a clinic wrote could otherwise go
out under the platform's sender (phishing). Secrets (a verification code, a password-reset link)
are made here at send time and exist only in the rendered body, which is neither stored nor logged.
"""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from medplatform.encryption import keyed_hash
from notifications.models import Channel, Kind

ALLOWED_CONTEXT_KEYS = frozenset(
    {
        "clinic_name",
        "doctor_name",
        "start",
        "timezone",
        "appointment_id",
        "lead_minutes",
        # a reminder of a visit the clinic wants confirmed: the deadline (an instant, ISO 8601)
        "confirm_by",
        "campaign_title",
        "verification_id",
        "invitation_id",
        # recipient notices (KVKK Art. 11): what happened, and whose data (in e-mails only)
        "notice_event",
        "patient_name",
        # the no-show policy: when a booking block ends
        "until",
        # a waitlist offer: how long the slot is held
        "hold_minutes",
    }
)

# Channels whose bodies are short texts under the platform's sender: no names, no links to reset.
SHORT_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE})
# Kinds never sent as a short text (a password-reset link goes by e-mail only).
EMAIL_ONLY_KINDS = frozenset({Kind.PASSWORD_RESET, Kind.HANDOVER_INVITATION})
# Where the e-mailed invitation to take over an account points; the token sits in the fragment.
HANDOVER_LINK_FORMAT = "{base}/claim#token={token}"
VERIFICATION_CODE_DIGITS = 6

SUBJECTS = {
    "tr": {
        Kind.APPOINTMENT_BOOKED: "Randevunuz oluşturuldu",
        Kind.APPOINTMENT_RESCHEDULED: "Randevunuz değiştirildi",
        Kind.APPOINTMENT_CANCELLED_BY_CLINIC: "Randevunuz klinik tarafından iptal edildi",
        Kind.APPOINTMENT_CANCELLED_BY_PATIENT: "Randevunuz iptal edildi",
        Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR: "Bir randevu iptal edildi",
        Kind.APPOINTMENT_REMINDER: "Randevu hatırlatması",
        Kind.APPOINTMENT_RELEASED: "Randevunuz onaylanmadığı için iptal edildi",
        Kind.REVIEW_INVITATION: "Ziyaretinizi değerlendirin",
        Kind.MARKETING: "Medplatform",
        Kind.VERIFICATION_CODE: "Medplatform doğrulama kodunuz",
        Kind.PASSWORD_RESET: "Medplatform parolanızı sıfırlayın",
        Kind.BREACH_NOTICE: "Kişisel verilerinizle ilgili bir bildirim",
        Kind.HANDOVER_INVITATION: "Medplatform hesabınızı devralın",
        Kind.HANDOVER_COMPLETED: "Hesap devri tamamlandı",
        Kind.RECIPIENT_NOTICE: "Size aktarılan kişisel verilerle ilgili bir bildirim",
        Kind.NO_SHOW_RECORDED: "Gelinmeyen randevu kaydı",
        Kind.BOOKING_BLOCKED: "Online randevu alımınız durduruldu",
        Kind.NO_SHOW_APPEAL_ACCEPTED: "İtirazınız kabul edildi",
        Kind.NO_SHOW_APPEAL_REFUSED: "İtirazınız reddedildi",
        Kind.WAITLIST_OFFER: "Bekleme listesinden sizin için bir randevu ayrıldı",
    },
    "en": {
        Kind.APPOINTMENT_BOOKED: "Your appointment is booked",
        Kind.APPOINTMENT_RESCHEDULED: "Your appointment has moved",
        Kind.APPOINTMENT_CANCELLED_BY_CLINIC: "Your appointment was cancelled by the clinic",
        Kind.APPOINTMENT_CANCELLED_BY_PATIENT: "Your appointment is cancelled",
        Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR: "An appointment was cancelled",
        Kind.APPOINTMENT_REMINDER: "Appointment reminder",
        Kind.APPOINTMENT_RELEASED: "Your appointment was released: not confirmed in time",
        Kind.REVIEW_INVITATION: "Review your visit",
        Kind.MARKETING: "Medplatform",
        Kind.VERIFICATION_CODE: "Your Medplatform verification code",
        Kind.PASSWORD_RESET: "Reset your Medplatform password",
        Kind.BREACH_NOTICE: "A notice about your personal data",
        Kind.HANDOVER_INVITATION: "Take over your Medplatform account",
        Kind.HANDOVER_COMPLETED: "The account handover is complete",
        Kind.RECIPIENT_NOTICE: "A notice about personal data you received",
        Kind.NO_SHOW_RECORDED: "A missed visit was recorded",
        Kind.BOOKING_BLOCKED: "Online booking is paused",
        Kind.NO_SHOW_APPEAL_ACCEPTED: "Your appeal was accepted",
        Kind.NO_SHOW_APPEAL_REFUSED: "Your appeal was refused",
        Kind.WAITLIST_OFFER: "A slot is held for you from the waitlist",
    },
}

DATE_FORMATS = {"tr": "%d.%m.%Y %H:%M", "en": "%d %b %Y, %H:%M"}

# Push notifications show on a lock screen: one neutral text per language, no clinic, doctor, time
# or name; the app opens the appointment (its id is in the payload) to show the rest.
PUSH_TITLE = "Medplatform"
PUSH_TEXTS = {
    "tr": {
        "appointment": "Randevunuzla ilgili yeni bir bildirim var. Görmek için dokunun.",
        "other": "Medplatform'da sizin için yeni bir bildirim var.",
    },
    "en": {
        "appointment": "There is news about your appointment. Tap to see it.",
        "other": "You have a new notification on Medplatform.",
    },
}


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


def verification_code(verification_id: str) -> str:
    """The one-time code of a verification row: derived from its random id under CRYPTOGRAPHY_KEY,
    so the code is never stored; the row keeps only a keyed hash of it."""
    digest = keyed_hash(str(verification_id), purpose="verification_code")
    return f"{int(digest, 16) % 10**VERIFICATION_CODE_DIGITS:0{VERIFICATION_CODE_DIGITS}d}"


def password_reset_link(user) -> str:
    """A reset link with Django's default_token_generator, made when the e-mail is rendered (the
    token changes with the password, so a used link stops working). uid and token sit in the
    fragment, which browsers do not send to servers or write to access logs."""
    return settings.PASSWORD_RESET_LINK_FORMAT.format(
        base=settings.PUBLIC_BASE_URL.rstrip("/"),
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


def handover_token(invitation_id: str) -> str:
    """The claim token of a handover invitation: its id and a keyed hash of it under
    CRYPTOGRAPHY_KEY, made when the e-mail is rendered, so the token is never stored."""
    return f"{invitation_id}.{keyed_hash(str(invitation_id), purpose='handover_token')}"


def _secrets(kind: str, recipient, context: dict) -> dict:
    if kind == Kind.VERIFICATION_CODE:
        return {
            "code": verification_code(context["verification_id"]),
            "minutes": settings.VERIFICATION_CODE_TTL_MINUTES,
        }
    if kind == Kind.PASSWORD_RESET:
        return {"link": password_reset_link(recipient)}
    if kind == Kind.HANDOVER_INVITATION:
        token = handover_token(context["invitation_id"])
        return {"link": HANDOVER_LINK_FORMAT.format(base=settings.PUBLIC_BASE_URL.rstrip("/"), token=token)}
    return {}


def render(*, kind: str, language: str, channel: str, recipient, context: dict) -> tuple[str, str]:
    """(subject, body) for one message to `recipient` over `channel`."""
    if channel == Channel.PUSH:
        if kind in EMAIL_ONLY_KINDS or kind == Kind.VERIFICATION_CODE:
            raise ValueError(f"{kind} is never sent as a push notification")
        about = "appointment" if context.get("appointment_id") else "other"
        return PUSH_TITLE, PUSH_TEXTS[language][about]
    short = channel in SHORT_CHANNELS
    if short and kind in EMAIL_ONLY_KINDS:
        raise ValueError(f"{kind} is sent by e-mail only")
    values = {
        "clinic_name": context.get("clinic_name") or "",
        "when": local_time(context.get("start"), context.get("timezone"), language),
        "confirm_by": local_time(context.get("confirm_by"), context.get("timezone"), language),
        "campaign_title": context.get("campaign_title") or "",
        "notice_event": context.get("notice_event") or "",
        "until": local_time(context.get("until"), context.get("timezone"), language),
        "hold_minutes": context.get("hold_minutes") or "",
        **_secrets(kind, recipient, context),
    }
    if short:
        template = f"notifications/messages/{language}/short/{kind}.txt"
    else:
        template = f"notifications/messages/{language}/{kind}.txt"
        values.update(
            first_name=recipient.first_name,
            doctor_name=context.get("doctor_name") or "",
            patient_name=context.get("patient_name") or "",
        )
    body = render_to_string(template, values)
    return SUBJECTS[language][kind], " ".join(body.split())
