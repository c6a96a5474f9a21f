"""Push notifications: devices per user, the push channel of the outbox over real Web Push (VAPID,
encrypted payloads) against the fake push service on 127.0.0.1, and what a payload may hold."""

import base64

import pytest
from django.db import transaction
from py_vapid import Vapid

from notifications.fake_push import FakePushService
from notifications.models import Channel, Device, Kind, Notification, NotificationPreference, Status
from notifications.services import notification_dispatch, notification_enqueue
from tests.notifications.conftest import booking_context

DEVICES = "/api/v1/me/devices/"
PREFERENCES = "/api/v1/me/notification-preferences/"


def vapid_private_key() -> str:
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def push(settings):
    service = FakePushService().start()
    settings.VAPID_PRIVATE_KEY = vapid_private_key()
    settings.VAPID_SUBJECT = "mailto:push@medplatform.example"
    settings.PUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    settings.PUSH_TIMEOUT_SECONDS = 5
    yield service
    service.stop()


def register(client, subscription, platform="web"):
    response = client.post(DEVICES, subscription.as_device(platform), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def enqueue_booked(user, **context) -> Notification:
    with transaction.atomic():
        rows = notification_enqueue(
            recipient=user,
            kind=Kind.APPOINTMENT_BOOKED,
            event_key=f"push:{user.pk}",
            context=booking_context(**context),
        )
    return next(row for row in rows if row.channel == Channel.PUSH)


@pytest.mark.django_db
def test_a_registered_device_turns_push_on_and_gets_an_encrypted_neutral_payload(as_user, patient_ayse, push):
    # given Ayşe's browser subscribed at the push service and registered with us
    browser = push.subscribe()
    device = register(as_user(patient_ayse), browser)
    assert as_user(patient_ayse).get(PREFERENCES).json()["push"] is True

    # when her booking is announced
    row = enqueue_booked(patient_ayse)
    status = notification_dispatch(notification_id=str(row.id))

    # then one encrypted message reached her browser, with the appointment to open and no details
    assert status == Status.SENT
    [payload] = push.delivered(browser)
    assert payload["appointment"] == row.context["appointment_id"]
    assert payload["tag"] == str(row.id) and payload["kind"] == Kind.APPOINTMENT_BOOKED
    assert payload["title"] == "Medplatform" and "Randevunuzla" in payload["body"]
    assert "Klinik X" not in str(payload) and "Ali Kaya" not in str(payload)
    [stored] = push.stored(browser)
    assert stored.topic == row.id.hex and stored.vapid_sub == "mailto:push@medplatform.example"
    assert Device.objects.get(pk=device["id"]).last_sent_at is not None


@pytest.mark.django_db
def test_no_payload_holds_a_visit_reason_or_profile_content(
    as_user, patient_ayse, doctor_x, clinic_x, push, django_capture_on_commit_callbacks
):
    from appointments.demo import create_demo_schedule
    from tests.appointments.conftest import at, book, grant_booking_consent, working_day
    from tests.health_profiles.scenario import add_entry, grant_storage

    browser = push.subscribe()
    register(as_user(patient_ayse), browser)
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    grant_storage(patient_ayse)
    add_entry(patient_ayse, "allergy")

    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient_ayse, doctor_x, at(working_day(), 11), visit_reason="Göğüs-ağrısı-QPV")
    for row in Notification.objects.filter(channel=Channel.PUSH, status=Status.PENDING):
        notification_dispatch(notification_id=str(row.id))

    payloads = push.delivered(browser)
    assert [p["appointment"] for p in payloads] == [str(appointment.id)]
    text = str(payloads)
    for secret in ("Göğüs-ağrısı-QPV", "Penisilin-alerjisi-ZQX", "Nefes-darligi-ZQX", clinic_x.name, "Ayşe"):
        assert secret not in text


@pytest.mark.django_db
def test_a_token_the_push_service_calls_gone_is_removed_and_not_retried(as_user, patient_ayse, push):
    gone, alive = push.subscribe(), push.subscribe()
    client = as_user(patient_ayse)
    gone_id, alive_id = register(client, gone)["id"], register(client, alive)["id"]
    push.gone.add(gone.token)

    row = enqueue_booked(patient_ayse)
    assert notification_dispatch(notification_id=str(row.id)) == Status.SENT

    assert not Device.objects.filter(pk=gone_id).exists()
    assert Device.objects.filter(pk=alive_id).exists()
    assert len(push.delivered(alive)) == 1
    # with its only device gone, the next message fails at once, without a retry
    push.gone.add(alive.token)
    second = Notification.objects.create(
        event_key="push:second", recipient=patient_ayse, channel=Channel.PUSH, kind=Kind.APPOINTMENT_REMINDER
    )
    assert notification_dispatch(notification_id=str(second.id)) == Status.FAILED
    second.refresh_from_db()
    assert (second.last_error, second.next_attempt_at) == ("push_410", None)
    assert not Device.objects.filter(user=patient_ayse).exists()


@pytest.mark.django_db
def test_a_push_service_error_is_retried_under_the_same_topic_and_delivered_once(as_user, patient_ayse, push):
    browser = push.subscribe()
    register(as_user(patient_ayse), browser)
    row = enqueue_booked(patient_ayse)

    push.fail_next(503)
    assert notification_dispatch(notification_id=str(row.id)) == Status.PENDING
    row.refresh_from_db()
    assert row.last_error == "push_503" and row.check_provider_first
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert notification_dispatch(notification_id=str(row.id)) == Status.SENT

    assert len(push.delivered(browser)) == 1 and push.requests == 2


@pytest.mark.django_db
def test_a_push_that_went_out_but_whose_answer_was_lost_is_not_delivered_twice(as_user, patient_ayse, push):
    # given a message the push service stored, then a resend of the same row (a worker died before
    # recording it): the Topic makes the second replace the first
    browser = push.subscribe()
    register(as_user(patient_ayse), browser)
    row = enqueue_booked(patient_ayse)
    assert notification_dispatch(notification_id=str(row.id)) == Status.SENT
    Notification.objects.filter(pk=row.pk).update(status=Status.PENDING, check_provider_first=True)

    assert notification_dispatch(notification_id=str(row.id)) == Status.SENT

    assert push.requests == 2 and len(push.delivered(browser)) == 1


@pytest.mark.django_db
def test_push_can_be_turned_off_in_the_preferences(as_user, patient_ayse, push):
    client = as_user(patient_ayse)
    register(client, push.subscribe())

    body = client.patch(PREFERENCES, {"push": False}, format="json").json()
    with transaction.atomic():
        rows = notification_enqueue(
            recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="off", context=booking_context()
        )

    assert body["push"] is False
    assert Channel.PUSH not in {row.channel for row in rows}


@pytest.mark.django_db
def test_devices_are_listed_and_removed_by_their_owner_only(as_user, patient_ayse, patient_mehmet, push):
    ayse, mehmet = as_user(patient_ayse), as_user(patient_mehmet)
    device = register(ayse, push.subscribe())

    listed = ayse.get(DEVICES).json()["results"]
    others = mehmet.get(DEVICES).json()["results"]
    refused = mehmet.delete(f"{DEVICES}{device['id']}/")
    removed = ayse.delete(f"{DEVICES}{device['id']}/")

    assert [row["id"] for row in listed] == [device["id"]] and "token" not in listed[0]
    assert others == []
    assert refused.status_code == 404
    assert removed.status_code == 204 and not Device.objects.exists()
    # the preference stays as the user left it
    assert NotificationPreference.objects.get(user=patient_ayse).push is True


@pytest.mark.django_db
def test_a_device_must_be_a_complete_subscription_at_a_known_push_service(as_user, patient_ayse, push, settings):
    client = as_user(patient_ayse)
    browser = push.subscribe()
    settings.PUSH_ENDPOINT_HOSTS = ["fcm.googleapis.com"]

    without_keys = client.post(DEVICES, {"platform": "web", "token": browser.endpoint}, format="json")
    internal = client.post(DEVICES, browser.as_device(), format="json")
    native = client.post(DEVICES, {"platform": "android", "token": "fcm-registration-token-1"}, format="json")

    assert without_keys.status_code == 400 and set(without_keys.json()["fields"]) == {"p256dh", "auth"}
    assert internal.status_code == 400 and set(internal.json()["fields"]) == {"token"}
    assert native.status_code == 201
