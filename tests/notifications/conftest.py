import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notifications.fake_twilio import FakeTwilio
from notifications.models import Kind
from privacy.models import Purpose
from privacy.services import consent_grant, current_version

PUBLIC_BASE_URL = "https://medplatform.test"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "whatsapp:+14155238886"


@pytest.fixture
def fake_twilio(settings):
    """A fake Twilio the real SDK talks to, with the platform's settings pointed at it."""
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_TRANSFER_BASIS = "standard_contract"  # Twilio is abroad (KVKK Art. 9)
    settings.TWILIO_SMS_FROM = SMS_FROM
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield fake
    fake.stop()


def grant_marketing(user):
    return consent_grant(
        subject=user,
        purpose=Purpose.MARKETING_MESSAGES,
        text_version=current_version(Purpose.MARKETING_MESSAGES),
        language="tr",
    )


def booking_context(**overrides) -> dict:
    context = {
        "clinic_name": "Klinik X",
        "doctor_name": "Dr. Ali Kaya",
        "start": datetime(2030, 3, 12, 6, 30, tzinfo=UTC).isoformat(),
        "timezone": "Europe/Istanbul",
        "appointment_id": str(uuid.uuid4()),
    }
    context.update(overrides)
    return context


# Kinds about an appointment or a campaign (the others carry a code or a link, not a clinic; a
# breach notice names neither: tests/privacy/test_breaches.py).
# Kinds about an appointment or a campaign; account messages (codes, links, notices, the handover of
# a dependant's account) have their own tests.
ACCOUNT_KINDS = (
    Kind.VERIFICATION_CODE,
    Kind.PASSWORD_RESET,
    Kind.BREACH_NOTICE,
    Kind.HANDOVER_INVITATION,
    Kind.HANDOVER_COMPLETED,
    Kind.RECIPIENT_NOTICE,
)
EVENT_KINDS = [kind for kind in Kind.values if kind not in ACCOUNT_KINDS]


def with_verified_phone(user):
    """SMS and WhatsApp go only to verified numbers: these tests are about what such a number gets."""
    user.phone_verified = True
    user.save(update_fields=["phone_verified"])
    return user


@pytest.fixture
def patient_ayse(patient_ayse):
    return with_verified_phone(patient_ayse)


@pytest.fixture
def patient_mehmet(patient_mehmet):
    return with_verified_phone(patient_mehmet)


@pytest.fixture
def doctor_x(doctor_x):
    with_verified_phone(doctor_x.user)
    return doctor_x


IN_A_DAY = timedelta(days=1)
