"""Dispatch faults, driven in-process against the fake Twilio with an injected clock."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.channels import Outgoing
from notifications.channels.twilio_channel import TwilioChannel
from notifications.messages import render
from notifications.models import Kind, Notification, Status
from notifications.services import (
    notification_dispatch,
    notification_enqueue,
    notifications_sweep,
    preferences_update,
    retry_delay,
)
from tests.notifications.conftest import booking_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_row(fake_twilio, patient_ayse):
    """One pending SMS row, not yet dispatched (no on-commit callbacks run in these tests)."""
    preferences_update(user=patient_ayse, email=False)
    with transaction.atomic():
        [row] = notification_enqueue(
            recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="booked:1", context=booking_context()
        )
    return row


def dispatch_until_done(row, *, now=None, rounds=10):
    """Run the row like the worker and the retries would, jumping the clock to each retry time."""
    now = now or timezone.now()
    for _ in range(rounds):
        status = notification_dispatch(notification_id=str(row.id), now=now)
        row.refresh_from_db()
        if status != Status.PENDING:
            return status
        now = row.next_attempt_at
    return row.status


def test_a_429_burst_is_retried_with_backoff_until_delivered(fake_twilio, sms_row):
    fake_twilio.fail_next(429, times=3)

    status = dispatch_until_done(sms_row)

    assert status == Status.SENT
    assert (sms_row.attempts, fake_twilio.create_requests, len(fake_twilio.messages)) == (4, 4, 1)
    print(f"429 burst: {fake_twilio.faults_answered} answered, {len(fake_twilio.messages)} message sent")


def test_a_500_after_the_message_went_out_is_looked_up_not_sent_again(fake_twilio, sms_row):
    fake_twilio.fail_next(500, after_create=True)

    first = notification_dispatch(notification_id=str(sms_row.id))
    sms_row.refresh_from_db()
    assert first == Status.PENDING and sms_row.check_provider_first and sms_row.last_error == "http_500"

    assert dispatch_until_done(sms_row, now=sms_row.next_attempt_at) == Status.SENT
    assert len(fake_twilio.messages) == 1 and fake_twilio.create_requests == 1
    assert sms_row.provider_sid == fake_twilio.messages[0].sid


def test_a_500_before_the_message_went_out_is_sent_after_the_look_up_finds_nothing(fake_twilio, sms_row):
    fake_twilio.fail_next(500, times=2)

    assert dispatch_until_done(sms_row) == Status.SENT
    assert len(fake_twilio.messages) == 1 and fake_twilio.create_requests == 3


@pytest.mark.parametrize("code", [21211, 21610])
def test_a_permanent_error_fails_the_row_without_retry(fake_twilio, sms_row, code):
    fake_twilio.fail_next(400, code=code)

    assert notification_dispatch(notification_id=str(sms_row.id)) == Status.FAILED
    assert notification_dispatch(notification_id=str(sms_row.id), now=timezone.now() + timedelta(days=1)) == "skipped"
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.last_error, sms_row.attempts) == (Status.FAILED, f"twilio_{code}", 1)
    assert fake_twilio.create_requests == 1


def test_an_invalid_number_at_the_provider_fails_the_row(fake_twilio, sms_row, patient_ayse):
    fake_twilio.invalid_numbers.add(str(patient_ayse.phone))

    assert notification_dispatch(notification_id=str(sms_row.id)) == Status.FAILED
    assert fake_twilio.messages == []


def test_a_row_that_keeps_failing_gives_up_after_the_last_attempt(settings, fake_twilio, sms_row):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    fake_twilio.fail_next(503, times=10)

    assert dispatch_until_done(sms_row) == Status.FAILED
    assert (sms_row.attempts, sms_row.last_error) == (3, "http_503")


def test_a_row_stuck_in_sending_after_its_worker_died_is_found_at_the_provider_not_sent_twice(
    fake_twilio, sms_row, patient_ayse, django_capture_on_commit_callbacks
):
    # given: the worker sent the message, then died before recording it
    subject, body = render(
        kind=sms_row.kind, language="tr", channel=sms_row.channel, recipient=patient_ayse, context=sms_row.context
    )
    TwilioChannel(whatsapp=False).send(
        Outgoing(str(sms_row.id), sms_row.kind, str(patient_ayse.phone), subject, body, sms_row.created_at)
    )
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(pk=sms_row.pk).update(status=Status.SENDING, sending_started_at=an_hour_ago)

    # when: the sweeper runs (tasks run in-process here)
    counts = notifications_sweep(now=timezone.now())

    # then
    sms_row.refresh_from_db()
    assert counts == {"pending": 0, "sending": 1}
    assert sms_row.status == Status.SENT and sms_row.provider_sid == fake_twilio.messages[0].sid
    assert len(fake_twilio.messages) == 1 and fake_twilio.create_requests == 1


def test_a_row_stuck_in_sending_whose_message_never_left_is_sent_once(fake_twilio, sms_row):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(pk=sms_row.pk).update(status=Status.SENDING, sending_started_at=an_hour_ago)

    notifications_sweep(now=timezone.now())
    notifications_sweep(now=timezone.now())

    sms_row.refresh_from_db()
    assert sms_row.status == Status.SENT and len(fake_twilio.messages) == 1


def test_a_row_being_sent_right_now_is_not_taken_over(fake_twilio, sms_row):
    Notification.objects.filter(pk=sms_row.pk).update(status=Status.SENDING, sending_started_at=timezone.now())

    assert notifications_sweep(now=timezone.now()) == {"pending": 0, "sending": 0}
    assert notification_dispatch(notification_id=str(sms_row.id)) == "skipped"
    assert fake_twilio.create_requests == 0


def test_the_sweeper_sends_rows_left_pending(fake_twilio, sms_row):
    # The row was written but never handed to the broker (it was down).
    notifications_sweep(now=timezone.now() + timedelta(minutes=5))

    sms_row.refresh_from_db()
    assert sms_row.status == Status.SENT and len(fake_twilio.messages) == 1


def test_retry_delays_grow_exponentially_with_jitter(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 300

    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (6, 300), (12, 300)]:
        delays = {retry_delay(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1
