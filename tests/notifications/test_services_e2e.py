"""End to end on real PostgreSQL and Redis with a real Celery worker process and the fake Twilio.

Run in the services run only (DATABASE_URL to PostgreSQL, MEDPLATFORM_REQUIRE_SERVICES=1). The
worker is `celery -A medplatform worker --pool=solo` in a subprocess on the same test database;
status callbacks come back signed from the fake Twilio to a live server. Counts are printed (-s).
"""

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.fake_twilio import FakeTwilio
from notifications.models import Kind, Notification, NotificationPreference, Status
from notifications.services import ReminderDue, notification_enqueue, notifications_sweep, reminders_create_due
from tests.notifications.conftest import booking_context
from tests.notifications.workers import (
    FAST_TIMINGS,
    PrivateRedis,
    Worker,
    broker_url,
    celery_client,
    purge,
    wait_until,
)

# serialized_rollback: restore the migrations' rows (consent texts, content types) for the tests after.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def callback_delay():
    return 0.0


@pytest.fixture
def response_delay():
    return 0.0


@pytest.fixture
def fake(settings, live_server, callback_delay, response_delay):
    fake = FakeTwilio(auto_callbacks=True, callback_delay=callback_delay, response_delay=response_delay).start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_TRANSFER_BASIS = "standard_contract"  # Twilio is abroad (KVKK Art. 9)
    settings.TWILIO_SMS_FROM = "+15005550006"
    settings.PUBLIC_BASE_URL = live_server.url
    settings.NOTIFICATIONS_MAX_PER_USER_PER_DAY = 1000
    for name, value in FAST_TIMINGS.items():
        setattr(settings, name, float(value))
    yield fake
    fake.stop()


@pytest.fixture
def worker(fake, live_server, tmp_path):
    broker = broker_url()
    purge(broker)
    worker = Worker(broker_url=broker, fake=fake, public_base_url=live_server.url, log_dir=tmp_path).start()
    with celery_client(broker):
        yield worker
    worker.stop()
    purge(broker)


_password = make_password("test-only-e2e-password-42")


def sms_patients(count: int, prefix: str) -> list[User]:
    users = User.objects.bulk_create(
        User(
            email=f"{prefix}{n}@example.test",
            first_name="Hasta",
            last_name=str(n),
            phone=f"+90532{n:07d}",
            phone_verified=True,  # booking messages go only to verified numbers
            password=_password,
        )
        for n in range(count)
    )
    NotificationPreference.objects.bulk_create(NotificationPreference(user=u, sms=True, email=False) for u in users)
    return users


def book(user: User, event_key: str, kind: str = Kind.APPOINTMENT_BOOKED) -> None:
    """What a booking service does: its own write and the outbox row in one transaction."""
    with transaction.atomic():
        notification_enqueue(recipient=user, kind=kind, event_key=event_key, context=booking_context())


def sweep() -> None:
    notifications_sweep(now=timezone.now())


def statuses() -> Counter:
    return Counter(Notification.objects.values_list("status", flat=True))


def all_done(expected: int):
    return lambda: statuses().get(Status.DELIVERED, 0) + statuses().get(Status.FAILED, 0) >= expected


def test_booking_cancellation_and_reminders_each_send_one_message(fake, worker):
    [patient] = sms_patients(1, "flow")
    start = datetime(2030, 3, 12, 6, 30, tzinfo=UTC)
    reminder_leads = [
        ReminderDue(
            appointment_id="6f1f2c1e-0000-4000-8000-000000000001",
            recipient_id=patient.pk,
            start=start,
            clinic_name="Klinik X",
            timezone="Europe/Istanbul",
            lead=lead,
        )
        for lead in (timedelta(hours=24), timedelta(hours=2))
    ]

    book(patient, "booked:A")
    book(patient, "booked:A")  # the same event again (a retried request)
    book(patient, "cancelled:A", Kind.APPOINTMENT_CANCELLED_BY_CLINIC)
    for now in [
        start - timedelta(hours=25),
        start - timedelta(hours=24),
        start - timedelta(hours=23),
        start - timedelta(hours=2),
        start - timedelta(minutes=30),
    ]:
        reminders_create_due(now=now, due=reminder_leads)

    assert wait_until(all_done(4), timeout=240, tick=sweep)
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    print(f"\nflow: rows={len(kinds)} fake messages={len(fake.messages)} statuses={dict(statuses())}")
    assert kinds == [
        "appointment_booked",
        "appointment_cancelled_by_clinic",
        "appointment_reminder",
        "appointment_reminder",
    ]
    assert len(fake.messages) == 4 and fake.create_requests == 4
    assert statuses() == Counter({Status.DELIVERED: 4})


# Delivery callbacks are held back until every row is accepted, so the look-up at the provider (not
# a callback) is what prevents a second message; a slow answer makes kills land after the message
# went out but before the worker learnt its SID.
@pytest.mark.parametrize(("callback_delay", "response_delay"), [(600.0, 0.03)])
def test_worker_killed_repeatedly_while_500_dispatch_every_message_goes_out_exactly_once(fake, worker):
    patients = sms_patients(500, "kill")
    kills = 0

    for number, patient in enumerate(patients):
        book(patient, f"booked:{number}")
    # Kill only a worker that is busy sending (at least 20 more messages since it started), at a
    # random moment, eight times over.
    for _ in range(8):
        sent_before = len(fake.messages)
        target = min(sent_before + 20, 500)
        if not wait_until(lambda target=target: len(fake.messages) >= target, timeout=180, tick=sweep, every=2.0):
            break
        if len(fake.messages) >= 500:
            break
        time.sleep(random.uniform(0.0, 0.3))
        worker.kill()
        kills += 1
        worker.start()

    # Every row accepted by the provider (the sweeper takes over what the dead workers left),
    # then the held-back delivery callbacks arrive.
    accepted = wait_until(lambda: statuses().get(Status.SENT, 0) >= 500, timeout=600, tick=sweep, every=2.0)
    fake.release_callbacks()
    finished = accepted and wait_until(all_done(500), timeout=300)

    worker.stop()  # flushes its log for the counts below
    per_recipient = Counter(message.to for message in fake.messages)
    duplicates = sum(count - 1 for count in per_recipient.values() if count > 1)
    print(
        f"\nSIGKILL x{kills}: notifications=500 fake messages={len(fake.messages)} "
        f"create requests={fake.create_requests} duplicates={duplicates} statuses={dict(statuses())} "
        f"callbacks={fake.callbacks_posted} worker starts={worker.starts} "
        f"taken over from a dead worker={worker.log_count('taken over')} "
        f"found at the provider instead of resent={worker.log_count('found at the provider')}"
    )
    assert finished
    assert len(per_recipient) == 500 and duplicates == 0
    assert statuses() == Counter({Status.DELIVERED: 500})
    assert worker.log_count("taken over") >= 1  # the kills did land mid-send


def test_bookings_succeed_while_redis_is_down_and_messages_go_out_once_it_is_back(fake, live_server, tmp_path):
    redis = PrivateRedis().start()
    worker = Worker(broker_url=redis.url, fake=fake, public_base_url=live_server.url, log_dir=tmp_path).start()
    patients = sms_patients(20, "redisdown")
    try:
        with celery_client(redis.url):
            book(patients[0], "booked:before")
            assert wait_until(all_done(1), timeout=240)

            redis.stop()
            started = time.monotonic()
            for number, patient in enumerate(patients[1:]):
                book(patient, f"booked:{number}")  # raises nothing: the outbox row is committed
            took = time.monotonic() - started
            pending = statuses().get(Status.PENDING, 0)
            assert pending == 19 and len(fake.messages) == 1

            redis.start()
            finished = wait_until(all_done(20), timeout=300, tick=sweep, every=2.0)
    finally:
        worker.stop()
        redis.stop()

    per_recipient = Counter(message.to for message in fake.messages)
    print(
        f"\nredis down: 19 bookings took {took:.1f}s, rows left pending={pending}; after restart "
        f"fake messages={len(fake.messages)} duplicates={sum(c - 1 for c in per_recipient.values())} "
        f"statuses={dict(statuses())}"
    )
    assert finished
    assert len(per_recipient) == 20 and max(per_recipient.values()) == 1


@pytest.mark.parametrize("callback_delay", [3.0])
def test_429_and_500_bursts_are_delivered_after_retries_and_permanent_errors_fail_once(fake, worker):
    patients = sms_patients(25, "burst")
    invalid, unsubscribed = patients[20:23], patients[23:]
    fake.invalid_numbers.update(str(p.phone) for p in invalid)
    fake.unsubscribed_numbers.update(str(p.phone) for p in unsubscribed)
    fake.fail_next(429, times=15)
    fake.fail_next(500, times=5)
    fake.fail_next(500, times=3, after_create=True)  # sent, but the answer was lost

    for number, patient in enumerate(patients):
        book(patient, f"booked:{number}")

    finished = wait_until(all_done(25), timeout=300, tick=sweep, every=2.0)

    per_recipient = Counter(message.to for message in fake.messages)
    failed = Notification.objects.filter(status=Status.FAILED)
    print(
        f"\nbursts: faults answered={fake.faults_answered} create requests={fake.create_requests} "
        f"fake messages={len(fake.messages)} duplicates={sum(c - 1 for c in per_recipient.values())} "
        f"statuses={dict(statuses())} failed codes={sorted(failed.values_list('last_error', flat=True))}"
    )
    assert finished
    assert len(per_recipient) == 20 and max(per_recipient.values()) == 1
    assert statuses() == Counter({Status.DELIVERED: 20, Status.FAILED: 5})
    assert sorted(failed.values_list("last_error", flat=True)) == ["twilio_21211"] * 3 + ["twilio_21610"] * 2
    # Not retried: one attempt, one create request, and none more after another sweep.
    for patient in invalid + unsubscribed:
        assert fake.create_requests_to[str(patient.phone)] == 1
        assert Notification.objects.get(recipient=patient).attempts == 1
    requests_before = dict(fake.create_requests_to)
    notifications_sweep(now=timezone.now() + timedelta(hours=1))
    time.sleep(2)
    assert dict(fake.create_requests_to) == requests_before
    worker.stop()
    found = worker.log_count("found at the provider")
    print(f"bursts: retries={worker.log_count(' retry in ')} found at the provider instead of resent={found}")
    assert found == 3  # the three "500 after the message was created" answers


def test_a_worker_keeps_its_database_connection_from_one_message_to_the_next(fake, worker):
    """Celery's Django fixup would open a PostgreSQL connection per task (CELERY_DB_REUSE_MAX): with
    CONN_MAX_AGE the worker keeps one, as a web process does between requests."""
    from django.db import connection

    worker.stop()
    worker.env["CONN_MAX_AGE"] = "60"
    worker.start()
    [patient] = sms_patients(1, "reuse")

    def worker_backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            return {pid for (pid,) in cursor.fetchall()}

    seen = []
    for n in range(3):
        book(patient, f"booked:reuse-{n}")
        assert wait_until(all_done(n + 1), timeout=60, tick=sweep)
        seen.append(worker_backends())
    print(f"\nworker backends after each message: {seen}")
    # The worker's backend lasts through all three (a live-server request's own comes and goes).
    assert seen[0] & seen[1] & seen[2]
