"""No log line holds a token, a reset link, a verification code or a message body: a full run
through the API (register, verify phone and e-mail, reset the password, book an appointment whose
messages go through the console channel) with every logger captured at DEBUG."""

import logging
import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from appointments.demo import create_demo_schedule
from notifications.messages import render
from notifications.models import Channel, Notification
from tests.appointments.conftest import at, grant_booking_consent, working_day

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-9"
NEW_PASSWORD = "another-long-passphrase-71"


def one_code(body: str) -> str:
    [code] = re.findall(r"\b\d{6}\b", body)
    return code


def test_a_full_run_writes_no_token_link_code_or_body_to_any_log(
    caplog, settings, fake_twilio, doctor_x, clinic_x, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    api = APIClient()
    secrets: list[str] = []

    def post(client, path, body):
        # on-commit work (the outbox hand-over, in-process tasks) runs as after a real commit
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, body)

    # given: a registered patient who signs in
    registration = {
        "email": "zeynep@example.test",
        "password": PASSWORD,
        "first_name": "Zeynep",
        "last_name": "Kaya",
        "phone": "0532 123 45 67",
    }
    assert post(api, "/api/v1/auth/register/", registration).status_code == 201
    tokens = post(api, "/api/v1/auth/token/", {"email": "zeynep@example.test", "password": PASSWORD}).json()
    secrets += [tokens["access"], tokens["refresh"]]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    # when: she verifies her phone (SMS through the fake Twilio) and her e-mail
    assert post(api, "/api/v1/me/verify/", {"channel": "phone"}).status_code == 202
    phone_code = one_code(fake_twilio.messages[-1].body)
    assert post(api, "/api/v1/me/verify/confirm/", {"channel": "phone", "code": phone_code}).status_code == 200
    assert post(api, "/api/v1/me/verify/", {"channel": "email"}).status_code == 202
    email_code = one_code(mail.outbox[-1].body)
    assert post(api, "/api/v1/me/verify/confirm/", {"channel": "email", "code": email_code}).status_code == 200
    secrets += [phone_code, email_code]

    # ... resets her password through the e-mailed link
    anonymous = APIClient()
    assert post(anonymous, "/api/v1/auth/password-reset/", {"email": "zeynep@example.test"}).status_code == 202
    [link] = re.findall(r"\S+#uid=\S+", mail.outbox[-1].body)
    uid, token = re.findall(r"#uid=([\w-]+)&token=([\w-]+)", link)[0]
    confirm = {"uid": uid, "token": token, "password": NEW_PASSWORD}
    assert post(anonymous, "/api/v1/auth/password-reset/confirm/", confirm).status_code == 204
    secrets += [link, token]
    tokens = post(anonymous, "/api/v1/auth/token/", {"email": "zeynep@example.test", "password": NEW_PASSWORD}).json()
    secrets += [tokens["access"], tokens["refresh"]]

    # ... and books, with no Twilio configured: her SMS goes to the console channel
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(User.objects.get(email="zeynep@example.test"))
    booking = APIClient()
    booking.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    start = at(working_day(), 10).isoformat()
    booked = post(
        booking, "/api/v1/appointments/", {"doctor": str(doctor_x.id), "start": start, "visit_reason": "Göğüs ağrısı"}
    )
    assert booked.status_code == 201, booked.json()

    # then: every message body is known...
    console_rows = list(Notification.objects.filter(channel=Channel.CONSOLE).select_related("recipient"))
    assert console_rows and all(row.status == "delivered" for row in console_rows)
    bodies = [message.body for message in fake_twilio.messages] + [message.body for message in mail.outbox]
    bodies += [
        render(kind=row.kind, language="tr", channel=row.channel, recipient=row.recipient, context=row.context)[1]
        for row in console_rows
    ]
    assert len(bodies) >= 5
    # ... the logs were captured (the console channel said what it delivered) ...
    lines = [record.getMessage() for record in caplog.records]
    lines += [record.exc_text for record in caplog.records if record.exc_text]
    assert any("delivered to console" in line for line in lines)
    # ... and none of them holds a secret or a body
    leaks = [(secret[:12], line) for secret in secrets + bodies for line in lines if secret in line]
    assert leaks == []
    assert not [line for line in lines if "Göğüs" in line or NEW_PASSWORD in line or PASSWORD in line]
