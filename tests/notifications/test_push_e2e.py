"""The push channel end to end on real PostgreSQL and Redis, with a real Celery worker process that
is killed mid-dispatch, against the fake Web Push service on 127.0.0.1 (services run only)."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.fake_push import FakePushService
from notifications.models import Channel, Device, Kind, Notification, NotificationPreference, Status
from notifications.services import notification_enqueue, notifications_sweep
from tests.notifications.conftest import booking_context
from tests.notifications.test_push import vapid_private_key
from tests.notifications.workers import FAST_TIMINGS, Worker, broker_url, celery_client, purge, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def push(settings):
    service = FakePushService(response_delay=4.0).start()
    settings.VAPID_PRIVATE_KEY = vapid_private_key()
    settings.VAPID_SUBJECT = "mailto:push@medplatform.example"
    settings.PUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    for name, value in FAST_TIMINGS.items():
        setattr(settings, name, float(value))
    yield service
    service.stop()


@pytest.fixture
def worker(push, settings, live_server, tmp_path):
    broker = broker_url()
    purge(broker)
    no_twilio = SimpleNamespace(base_url="", account_sid="", auth_token="")
    worker = Worker(broker_url=broker, fake=no_twilio, public_base_url=live_server.url, log_dir=tmp_path)
    worker.env.update(
        VAPID_PRIVATE_KEY=settings.VAPID_PRIVATE_KEY,
        VAPID_SUBJECT=settings.VAPID_SUBJECT,
        PUSH_ENDPOINT_HOSTS="127.0.0.1",
        PUSH_TIMEOUT_SECONDS="10",
    )
    worker.start()
    with celery_client(broker):
        yield worker
    worker.stop()
    purge(broker)


def push_user(email: str, push: FakePushService):
    user = User.objects.create(email=email, first_name="Hasta", last_name="Bir", password=make_password("e2e-Push-42"))
    NotificationPreference.objects.create(user=user, sms=False, email=False, push=True)
    browser = push.subscribe()
    Device.objects.create(
        user=user, platform=Device.Platform.WEB, **{k: browser.as_device()[k] for k in ("token", "p256dh", "auth")}
    )
    return user, browser


def enqueue(user: User, event_key: str) -> Notification:
    with transaction.atomic():
        [row] = notification_enqueue(
            recipient=user, kind=Kind.APPOINTMENT_BOOKED, event_key=event_key, context=booking_context()
        )
    assert row.channel == Channel.PUSH
    return row


def status_of(row: Notification) -> str:
    return Notification.objects.values_list("status", flat=True).get(pk=row.pk)


def test_a_push_with_the_worker_killed_mid_dispatch_is_delivered_once(push, worker):
    # given a push the service has stored but not yet answered (it holds its answer for 4 s)
    user, browser = push_user("kill-push@example.test", push)
    row = enqueue(user, "push-kill")
    assert wait_until(lambda: push.requests >= 1, timeout=120)

    # when the worker is killed before it hears back, and a new one takes the row over
    worker.kill()
    push.response_delay = 0.0
    worker.start()
    sweep = lambda: notifications_sweep(now=timezone.now())  # noqa: E731
    assert wait_until(lambda: status_of(row) == Status.SENT, timeout=180, tick=sweep, every=1.0)

    # then it was sent twice under the same Topic, and the device has it once
    print(f"\npush kill: requests={push.requests} stored={len(push.stored(browser))} starts={worker.starts}")
    assert push.requests == 2
    [payload] = push.delivered(browser)
    assert payload["tag"] == str(row.id) and payload["appointment"] == row.context["appointment_id"]
    assert worker.log_count("taken over") >= 1  # the kill did land mid-send


def test_a_gone_token_is_removed_by_the_worker_and_the_message_not_retried(push, worker):
    push.response_delay = 0.0
    user, browser = push_user("gone-push@example.test", push)
    push.gone.add(browser.token)

    row = enqueue(user, "push-gone")

    assert wait_until(lambda: status_of(row) == Status.FAILED, timeout=120)
    assert not Device.objects.filter(user=user).exists()
    assert Notification.objects.get(pk=row.pk).last_error == "push_410"
    assert push.requests == 1
