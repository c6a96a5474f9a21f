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


# A breach notice names no clinic and no time (tests/privacy/test_breaches.py).
ALL_KINDS = [kind for kind in Kind.values if kind != Kind.BREACH_NOTICE]
IN_A_DAY = timedelta(days=1)
