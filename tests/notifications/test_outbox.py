"""The outbox: one row per event, recipient and channel; dispatch after commit; consent and caps."""

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import Channel, Kind, Notification, Status
from notifications.services import notification_enqueue, preferences_update
from privacy.models import ConsentEvent, Purpose
from privacy.services import consent_withdraw
from tests.factories import UserFactory
from tests.notifications.conftest import booking_context, grant_marketing

pytestmark = pytest.mark.django_db


def enqueue(user, kind=Kind.APPOINTMENT_BOOKED, event_key="appointment_booked:1", **context):
    with transaction.atomic():
        return notification_enqueue(recipient=user, kind=kind, event_key=event_key, context=booking_context(**context))


def test_it_writes_a_row_per_enabled_channel_and_sends_one_sms_and_one_email(
    fake_twilio, patient_ayse, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rows = enqueue(patient_ayse)

    assert sorted(row.channel for row in rows) == [Channel.EMAIL, Channel.SMS]
    assert len(fake_twilio.sent_to(str(patient_ayse.phone))) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [patient_ayse.email]
    sms = Notification.objects.get(channel=Channel.SMS)
    assert sms.status == Status.SENT and sms.provider_sid.startswith("SM") and sms.attempts == 1
    assert fake_twilio.messages[0].status_callback == (
        f"https://medplatform.test/api/v1/notifications/twilio/status/?n={sms.id}"
    )


def test_the_same_event_twice_sends_one_message(fake_twilio, patient_ayse, django_capture_on_commit_callbacks):
    preferences_update(user=patient_ayse, email=False)
    context = booking_context()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            with transaction.atomic():
                notification_enqueue(
                    recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="booked:A", context=context
                )

    assert Notification.objects.count() == 1
    assert fake_twilio.create_requests == 1


def test_a_clinic_cancellation_notice_is_sent_once(fake_twilio, patient_ayse, django_capture_on_commit_callbacks):
    preferences_update(user=patient_ayse, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(patient_ayse, kind=Kind.APPOINTMENT_CANCELLED_BY_CLINIC, event_key="cancel:A")
        enqueue(patient_ayse, kind=Kind.APPOINTMENT_CANCELLED_BY_CLINIC, event_key="cancel:A")

    [message] = fake_twilio.messages
    assert "iptal etti" in message.body and "Klinik X" in message.body


def test_a_rolled_back_event_leaves_no_row_and_sends_nothing(
    fake_twilio, patient_ayse, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            notification_enqueue(
                recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="b", context=booking_context()
            )
            raise RuntimeError("the booking failed after the enqueue")

    assert Notification.objects.count() == 0
    assert fake_twilio.create_requests == 0


def test_a_switched_off_channel_gets_no_row(fake_twilio, patient_ayse):
    preferences_update(user=patient_ayse, sms=False, email=True)

    rows = enqueue(patient_ayse)

    assert [row.channel for row in rows] == [Channel.EMAIL]


def test_whatsapp_goes_to_a_whatsapp_address(fake_twilio, patient_ayse, django_capture_on_commit_callbacks):
    preferences_update(user=patient_ayse, sms=False, email=False, whatsapp=True)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue(patient_ayse)

    [message] = fake_twilio.messages
    assert message.to == f"whatsapp:{patient_ayse.phone}"
    assert message.from_ == "whatsapp:+14155238886"


def test_without_twilio_credentials_the_console_channel_stands_in(
    settings, patient_ayse, django_capture_on_commit_callbacks, caplog
):
    settings.TWILIO_ACCOUNT_SID = ""
    preferences_update(user=patient_ayse, email=False, whatsapp=True)

    with django_capture_on_commit_callbacks(execute=True), caplog.at_level("INFO", logger="notifications.console"):
        rows = enqueue(patient_ayse)

    [row] = rows
    row.refresh_from_db()
    assert row.channel == Channel.CONSOLE and row.status == Status.DELIVERED
    assert str(row.id) in caplog.text and "Klinik X" not in caplog.text


def test_marketing_is_written_only_while_the_consent_is_active(
    fake_twilio, patient_ayse, django_capture_on_commit_callbacks
):
    assert enqueue(patient_ayse, kind=Kind.MARKETING, event_key="campaign:1", campaign_title="Bahar") == []

    grant = grant_marketing(patient_ayse)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(enqueue(patient_ayse, kind=Kind.MARKETING, event_key="campaign:2", campaign_title="Yaz")) == 2

    assert len(fake_twilio.messages) == 1
    rows = enqueue(patient_ayse, kind=Kind.MARKETING, event_key="campaign:3", campaign_title="Kış")
    consent_withdraw(subject=patient_ayse, grant_id=grant.id)
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.last_error) == (Status.FAILED, "consent_withdrawn")
    assert ConsentEvent.objects.filter(purpose=Purpose.MARKETING_MESSAGES).count() == 2


def test_a_context_with_a_visit_reason_is_refused(patient_ayse):
    with pytest.raises(ValueError, match="visit_reason"):
        enqueue(patient_ayse, visit_reason="Göğüs ağrısı")

    assert Notification.objects.count() == 0


def test_one_user_can_trigger_only_so_many_messages_a_day(settings, fake_twilio, patient_ayse):
    settings.NOTIFICATIONS_MAX_PER_USER_PER_DAY = 4  # two events of two channels each

    for number in range(3):
        enqueue(patient_ayse, event_key=f"booked:{number}")

    statuses = list(Notification.objects.order_by("created_at").values_list("status", "last_error"))
    assert statuses.count((Status.PENDING, "")) == 4
    assert statuses.count((Status.FAILED, "capped")) == 2


def test_one_appointment_can_trigger_only_so_many_messages_a_day(settings, fake_twilio, patient_ayse):
    settings.NOTIFICATIONS_MAX_PER_APPOINTMENT_PER_DAY = 2
    other = UserFactory(phone_verified=True)
    context = booking_context()

    enqueue(patient_ayse, event_key="booked:A", appointment_id=context["appointment_id"])
    enqueue(other, event_key="rescheduled:A", appointment_id=context["appointment_id"])

    assert Notification.objects.filter(recipient=other, last_error="capped").count() == 2
