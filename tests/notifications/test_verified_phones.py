"""SMS and WhatsApp only to verified numbers, and a daily cap per number across accounts."""

import pytest
from django.core import mail
from django.db import transaction

from appointments.demo import create_demo_schedule
from notifications.models import Channel, Kind, Notification, Status
from notifications.services import notification_dispatch, notification_enqueue, preferences_update
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.factories import UserFactory
from tests.notifications.conftest import booking_context

pytestmark = pytest.mark.django_db


def enqueue(user, event_key="appointment_booked:1"):
    with transaction.atomic():
        return notification_enqueue(
            recipient=user, kind=Kind.APPOINTMENT_BOOKED, event_key=event_key, context=booking_context()
        )


def test_an_unverified_number_gets_no_booking_sms_but_the_e_mail_still_goes(
    fake_twilio, doctor_x, clinic_x, django_capture_on_commit_callbacks
):
    unverified = UserFactory(phone="+905321234567")
    grant_booking_consent(unverified)
    preferences_update(user=unverified, whatsapp=True)
    create_demo_schedule(doctor_x, clinic_x)

    with django_capture_on_commit_callbacks(execute=True):
        book(unverified, doctor_x, at(working_day(), 10))

    assert fake_twilio.messages == []
    assert list(Notification.objects.filter(recipient=unverified).values_list("channel", flat=True)) == [Channel.EMAIL]
    assert [message.to for message in mail.outbox] == [[unverified.email]]


def test_the_same_booking_to_a_verified_number_is_sent_by_sms(
    fake_twilio, patient_ayse, doctor_x, clinic_x, django_capture_on_commit_callbacks
):
    grant_booking_consent(patient_ayse)
    create_demo_schedule(doctor_x, clinic_x)

    with django_capture_on_commit_callbacks(execute=True):
        book(patient_ayse, doctor_x, at(working_day(), 10))

    assert [message.to for message in fake_twilio.messages] == [str(patient_ayse.phone)]


def test_a_number_changed_before_the_message_goes_out_gets_nothing(as_user, fake_twilio, patient_ayse):
    [sms, _email] = sorted(enqueue(patient_ayse), key=lambda row: row.channel != Channel.SMS)

    assert as_user(patient_ayse).patch("/api/v1/me/", {"phone": "+905329998877"}).status_code == 200
    status = notification_dispatch(notification_id=str(sms.id))

    sms.refresh_from_db()
    assert (status, sms.last_error) == (Status.FAILED, "phone_not_verified")
    assert fake_twilio.messages == []


def test_one_number_gets_only_so_many_messages_a_day_across_accounts(
    settings, fake_twilio, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_MAX_PER_NUMBER_PER_DAY = 2
    accounts = [UserFactory(phone="+905321234567", phone_verified=True) for _ in range(3)]
    other_number = UserFactory(phone="+905320000000", phone_verified=True)

    with django_capture_on_commit_callbacks(execute=True):
        for account in [*accounts, other_number]:
            enqueue(account)

    sms = Notification.objects.filter(channel=Channel.SMS)
    assert sorted(sms.values_list("last_error", flat=True)) == ["", "", "", "capped"]
    assert sms.get(last_error="capped").recipient == accounts[2]
    # the e-mail of the capped event still goes: the cap is on the number
    assert Notification.objects.filter(channel=Channel.EMAIL, last_error="capped").count() == 0
    assert sorted(message.to for message in fake_twilio.messages) == ["+905320000000", *["+905321234567"] * 2]
