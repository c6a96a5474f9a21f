"""Twilio status callbacks: signed or refused, and a one-way status ladder."""

from urllib.parse import urlencode

import pytest
from django.db import transaction

from notifications.models import Kind, Notification, Status
from notifications.services import notification_dispatch, notification_enqueue, preferences_update
from tests.notifications.conftest import PUBLIC_BASE_URL, booking_context

pytestmark = pytest.mark.django_db

PATH = "/api/v1/notifications/twilio/status/"


@pytest.fixture
def sent_sms(fake_twilio, patient_ayse):
    preferences_update(user=patient_ayse, email=False)
    with transaction.atomic():
        [row] = notification_enqueue(
            recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="booked:1", context=booking_context()
        )
    notification_dispatch(notification_id=str(row.id))
    row.refresh_from_db()
    return row


def post_callback(api, fake, row, status, *, signature=None, query=None):
    message = next(m for m in fake.messages if m.sid == row.provider_sid)
    params = fake.callback_params(message, status)
    query = f"?n={row.id}" if query is None else query
    headers = {}
    if signature is not False:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature or fake.signed(PUBLIC_BASE_URL + PATH + query, params)
    return api.post(PATH + query, data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def test_a_signed_delivered_callback_marks_the_row_delivered(api, fake_twilio, sent_sms):
    response = post_callback(api, fake_twilio, sent_sms, "delivered")

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED and sent_sms.delivered_at is not None


@pytest.mark.parametrize("signature", ["forged-signature", False])
def test_a_forged_or_missing_signature_gets_403_and_changes_nothing(api, fake_twilio, sent_sms, signature):
    before = Notification.objects.values().get(pk=sent_sms.pk)

    response = post_callback(api, fake_twilio, sent_sms, "delivered", signature=signature)

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Notification.objects.values().get(pk=sent_sms.pk) == before


def test_a_signature_for_another_url_is_refused(api, fake_twilio, sent_sms):
    message = fake_twilio.messages[0]
    params = fake_twilio.callback_params(message, "delivered")
    signature = fake_twilio.signed("https://evil.test" + PATH, params)

    response = post_callback(api, fake_twilio, sent_sms, "delivered", signature=signature)

    assert response.status_code == 403


def test_the_same_callback_replayed_ten_times_changes_the_row_once(api, fake_twilio, sent_sms):
    post_callback(api, fake_twilio, sent_sms, "delivered")
    after_first = Notification.objects.values().get(pk=sent_sms.pk)

    for _ in range(9):
        assert post_callback(api, fake_twilio, sent_sms, "delivered").status_code == 204

    assert Notification.objects.values().get(pk=sent_sms.pk) == after_first


def test_a_late_sent_never_overwrites_delivered(api, fake_twilio, sent_sms):
    post_callback(api, fake_twilio, sent_sms, "delivered")
    post_callback(api, fake_twilio, sent_sms, "sent")
    post_callback(api, fake_twilio, sent_sms, "queued")

    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED


def test_undelivered_records_the_provider_error_code_only(api, fake_twilio, sent_sms):
    message = fake_twilio.messages[0]
    params = fake_twilio.callback_params(message, "undelivered", error_code="30005")
    query = f"?n={sent_sms.id}"
    signature = fake_twilio.signed(PUBLIC_BASE_URL + PATH + query, params)

    api.post(
        PATH + query,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.last_error) == (Status.UNDELIVERED, "twilio_30005")


def test_a_callback_that_overtakes_our_own_write_of_the_sid_still_finds_its_row(api, fake_twilio, sent_sms):
    # The worker is still between Twilio's answer and its own update.
    sid = sent_sms.provider_sid
    Notification.objects.filter(pk=sent_sms.pk).update(status=Status.SENDING, provider_sid=None)
    sent_sms.provider_sid = sid

    post_callback(api, fake_twilio, sent_sms, "delivered")

    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.provider_sid) == (Status.DELIVERED, sid)


def test_a_callback_for_an_unknown_message_is_accepted_and_changes_nothing(api, fake_twilio, sent_sms):
    Notification.objects.filter(pk=sent_sms.pk).update(provider_sid="SMother")
    response = post_callback(api, fake_twilio, sent_sms, "delivered", query="")

    assert response.status_code == 204
    assert Notification.objects.get(pk=sent_sms.pk).status == Status.SENT


# live_server makes the test transactional; serialized_rollback restores the migrations' rows after it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fake_twilio_posts_signed_callbacks_that_the_endpoint_accepts(fake_twilio, sent_sms, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    message = fake_twilio.messages[0]

    answered = fake_twilio.post_status_callback(message, "delivered", url=f"{live_server.url}{PATH}?n={sent_sms.id}")

    assert answered == 204
