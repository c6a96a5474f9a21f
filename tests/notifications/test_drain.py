"""Handing committed outbox rows to the worker through one drain at a time (notifications.services:
notifications_hand_over, notifications_drain), against a Redis broker of the test's own.

No worker process here: the test reads the broker's queue and runs the drain in-process, as the
worker's task does, so each step of the hand-over is seen in order. The real worker, its kills and
a broker outage are tests/notifications/test_services_e2e.py's."""

import json

import pytest
import redis
from django.core import mail
from django.db import transaction

from notifications import services
from notifications.models import Kind, Notification, Status
from notifications.services import DRAIN_FLAG, notification_enqueue, notifications_drain
from tests.factories import UserFactory
from tests.notifications.conftest import booking_context
from tests.notifications.workers import PrivateRedis, celery_client

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def broker():
    """A redis-server of this test's own as the Celery broker of this process."""
    private = PrivateRedis().start()
    try:
        with celery_client(private.url):
            yield redis.Redis.from_url(private.url)
    finally:
        private.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Book for a new patient (an email-only outbox row) in a transaction of its own, and run what
    its commit runs."""

    def book() -> Notification:
        patient = UserFactory()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            (row,) = notification_enqueue(
                recipient=patient,
                kind=Kind.APPOINTMENT_BOOKED,
                event_key=f"booked:{patient.pk}",
                context=booking_context(),
            )
        return row

    return book


def queued(broker) -> list[str]:
    """The task names waiting in the broker's notifications queue, oldest first."""
    return [json.loads(raw)["headers"]["task"] for raw in reversed(broker.lrange("notifications", 0, -1))]


def statuses() -> list[str]:
    return sorted(Notification.objects.values_list("status", flat=True))


def test_a_burst_of_commits_publishes_one_drain_which_sends_every_row_and_drops_the_flag(broker, commit):
    rows = [commit() for _ in range(5)]

    assert all(row.status == Status.PENDING for row in rows)
    assert queued(broker) == ["notifications.tasks.drain_outbox"]  # one message for five commits
    assert broker.exists(DRAIN_FLAG)

    assert notifications_drain() == 5
    assert statuses() == [Status.SENT] * 5
    assert len(mail.outbox) == 5
    assert not broker.exists(DRAIN_FLAG)

    commit()  # after the drain ended: a drain of its own
    assert queued(broker) == ["notifications.tasks.drain_outbox"] * 2


def test_a_row_committed_while_a_drain_is_at_work_is_sent_by_it(broker, commit):
    commit()
    assert notifications_drain() == 1

    # A drain taken from the queue holds the flag while it works: a commit now publishes nothing...
    broker.set(DRAIN_FLAG, "1")
    late = commit()
    assert queued(broker) == ["notifications.tasks.drain_outbox"]
    # ...and the drain, which looks again after dropping the flag, sends the row.
    assert notifications_drain() == 1
    late.refresh_from_db()
    assert late.status == Status.SENT
    assert not broker.exists(DRAIN_FLAG)


def test_a_row_committed_between_the_drop_and_the_last_look_is_sent_by_exactly_one_drain(broker, commit, monkeypatch):
    """The race the flag's order closes: the drain drops the flag, a commit lands (and publishes a
    new drain, the flag being free), then the drain looks again and finds the row. It leaves the
    row to the new drain if that one holds the flag, and the row is sent once."""
    commit()
    original = services._due_ids
    landed = []

    def due_ids(now, limit):
        if limit == 1 and not landed:  # the look after the drop
            landed.append(commit())
        return original(now, limit)

    monkeypatch.setattr(services, "_due_ids", due_ids)
    notifications_drain()
    monkeypatch.undo()

    assert queued(broker) == ["notifications.tasks.drain_outbox"] * 2  # the commit's own drain
    assert broker.exists(DRAIN_FLAG)  # held for that drain
    assert Notification.objects.get(pk=landed[0].pk).status == Status.PENDING
    notifications_drain()
    assert statuses() == [Status.SENT] * 2
    assert len(mail.outbox) == 2


def test_a_drain_with_more_to_send_than_its_time_allows_hands_over_to_a_successor(broker, commit):
    for _ in range(5):
        commit()

    assert notifications_drain(batch=2, seconds=0) == 2
    assert queued(broker) == ["notifications.tasks.drain_outbox"] * 2  # the first and its successor
    assert broker.exists(DRAIN_FLAG)  # kept: the successor is queued
    assert notifications_drain(batch=2) == 3
    assert statuses() == [Status.SENT] * 5


def test_a_row_not_yet_due_is_left_to_its_own_retry(broker, commit):
    later = commit()
    Notification.objects.filter(pk=later.pk).update(next_attempt_at=later.next_attempt_at.replace(year=2099))

    assert notifications_drain() == 0
    assert statuses() == [Status.PENDING]
    assert not broker.exists(DRAIN_FLAG)


def test_with_tasks_run_eagerly_each_row_is_sent_at_its_commit(commit):
    """The embedded default (and every test outside the services marker): no drain, no flag."""
    from medplatform.celery import app

    saved, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        assert services._drain_flag_client() is None
        row = commit()
    finally:
        app.conf.task_always_eager = saved
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert len(mail.outbox) == 1
