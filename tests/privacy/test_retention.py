"""Retention and periodic destruction: each rule deletes exactly what has outlived its period at
the given `now` and keeps the rest; a failing rule is recorded and the others still run; each run
leaves one append-only DestructionRun row (refused by the model and by the database triggers)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from appointments.models import Appointment, IdempotencyRecord
from health_profiles.models import ShareGrant
from notifications.models import Channel, Kind, Notification, Status
from privacy import contract, retention
from privacy.models import AuditEntry, ConsentEvent, DataSubjectRequest, DestructionRun
from privacy.services import audit_record
from privacy.tasks import run_destruction
from tests.health_profiles.scenario import grant_storage, share_with

pytestmark = pytest.mark.django_db

NOW = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
FINAL = [Status.SENT, Status.DELIVERED, Status.FAILED, Status.UNDELIVERED]


def rule_of(fn) -> contract.RetentionRule:
    return contract.RetentionRule(
        kind="test", models=(), from_event="test", action=contract.RetentionAction.DESTROY, run=fn, period_days=1
    )


def run(now=NOW, **kwargs) -> DestructionRun:
    return retention.destruction_run(now=now, **kwargs)


def age(model, obj, field: str, when: datetime) -> None:
    """Set an auto_now(_add) timestamp, which save() would overwrite."""
    model.objects.filter(pk=obj.pk).update(**{field: when})


def raw(sql: str, params) -> None:
    # A savepoint, so that a refused statement does not abort the test's transaction on PostgreSQL.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- appointments: idempotency records older than 24 h ---


@pytest.fixture
def appointment(patient_ayse, doctor_x, clinic_x):
    start = datetime(2031, 7, 1, 9, 0, tzinfo=UTC)
    return Appointment.objects.create(
        patient=patient_ayse, doctor=doctor_x, clinic=clinic_x, start=start, end=start + timedelta(minutes=30)
    )


def idempotency_record(appointment, key: str, created_at: datetime) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        user=appointment.patient, key=key, request_hash="0" * 64, appointment=appointment
    )
    age(IdempotencyRecord, record, "created_at", created_at)
    return record


def test_idempotency_records_older_than_24_hours_are_deleted_and_younger_ones_kept(appointment):
    old = idempotency_record(appointment, "old", NOW - timedelta(hours=24) - SECOND)
    boundary = idempotency_record(appointment, "boundary", NOW - timedelta(hours=24))
    young = idempotency_record(appointment, "young", NOW - timedelta(hours=23))

    destruction = run()

    assert destruction.counts["appointments.idempotency_records"] == 1
    remaining = set(IdempotencyRecord.objects.values_list("pk", flat=True))
    assert remaining == {boundary.pk, young.pk} and old.pk not in remaining
    assert Appointment.objects.filter(pk=appointment.pk).exists()


# --- health_profiles: share grants past their expiry ---


def test_share_grants_past_their_expiry_are_deleted_and_their_consent_events_stay(
    patient_ayse, patient_mehmet, doctor_x, doctor_y
):
    now = timezone.now() + timedelta(days=10)  # expiries must lie ahead when given
    grant_storage(patient_ayse)
    grant_storage(patient_mehmet)
    expired = share_with(patient_ayse, doctor_x, categories=["allergy"], expires_at=now - SECOND)
    at_boundary = share_with(patient_ayse, doctor_y, categories=["allergy"], expires_at=now)
    running = share_with(patient_mehmet, doctor_x, categories=["allergy"], expires_at=now + SECOND)
    open_ended = share_with(patient_mehmet, doctor_y, categories=["allergy"])
    events_before = ConsentEvent.objects.count()

    destruction = run(now=now)

    # Access ends when expires_at is reached (selectors: active while expires_at > now).
    assert destruction.counts["health_profiles.expired_share_grants"] == 2
    assert set(ShareGrant.objects.values_list("consent_id", flat=True)) == {running.pk, open_ended.pk}
    assert not ShareGrant.objects.filter(consent__in=[expired, at_boundary]).exists()
    assert ConsentEvent.objects.count() == events_before


def test_a_share_without_expiry_is_deleted_once_the_days_after_the_last_visit_have_passed(
    patient_ayse, doctor_x, doctor_y, clinic_x, settings
):
    """The after-last-visit end (health_profiles.selectors.shares_with_end) counts like an expiry."""
    days = timedelta(days=settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT)
    grant_storage(patient_ayse)
    with_visit = share_with(patient_ayse, doctor_x, categories=["allergy"])
    without_visit = share_with(patient_ayse, doctor_y, categories=["allergy"])
    granted = ShareGrant.objects.get(consent=with_visit).created_at
    visit_start = granted + timedelta(days=30)
    Appointment.objects.create(
        patient=patient_ayse,
        doctor=doctor_x,
        clinic=clinic_x,
        start=visit_start,
        end=visit_start + timedelta(minutes=30),
    )

    # Just after the grant's own end (no visit with doctor_y): only that share goes.
    first = run(now=granted + days + SECOND)
    assert first.counts["health_profiles.expired_share_grants"] == 1
    assert list(ShareGrant.objects.values_list("consent_id", flat=True)) == [with_visit.pk]
    assert without_visit.pk not in set(ShareGrant.objects.values_list("consent_id", flat=True))

    # The visit moved doctor_x's end: kept up to it, gone after it.
    assert run(now=visit_start + days - SECOND).counts["health_profiles.expired_share_grants"] == 0
    assert run(now=visit_start + days).counts["health_profiles.expired_share_grants"] == 1
    assert not ShareGrant.objects.exists()


# --- notifications: final outbox rows older than NOTIFICATION_RETENTION_DAYS ---


def notification(recipient, status: str, created_at: datetime, n: int) -> Notification:
    row = Notification.objects.create(
        recipient=recipient, kind=Kind.APPOINTMENT_BOOKED, channel=Channel.SMS, event_key=f"e:{n}", status=status
    )
    age(Notification, row, "created_at", created_at)
    return row


def test_final_outbox_rows_past_the_period_are_deleted_and_pending_or_sending_rows_never(patient_ayse):
    period = timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    assert period == timedelta(days=180)
    old = NOW - period - SECOND
    old_final = [notification(patient_ayse, status, old, n) for n, status in enumerate(FINAL)]
    old_open = [notification(patient_ayse, status, old, 10 + n) for n, status in enumerate(["pending", "sending"])]
    at_boundary = notification(patient_ayse, Status.DELIVERED, NOW - period, 20)
    recent = notification(patient_ayse, Status.FAILED, NOW - timedelta(days=1), 21)

    destruction = run()

    assert destruction.counts["notifications.final_outbox_rows"] == 4
    assert not Notification.objects.filter(pk__in=[row.pk for row in old_final]).exists()
    assert set(Notification.objects.values_list("pk", flat=True)) == {
        *(row.pk for row in old_open),
        at_boundary.pk,
        recent.pk,
    }


def test_the_notification_period_comes_from_settings(patient_ayse, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    gone = notification(patient_ayse, Status.SENT, NOW - timedelta(days=30) - SECOND, 1)
    kept = notification(patient_ayse, Status.SENT, NOW - timedelta(days=29), 2)

    run()

    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Notification.objects.filter(pk=gone.pk).exists()


# --- privacy: closed data-subject requests; never consent events or audit entries ---


def privacy_request(subject, status: str, answered_at: datetime | None) -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        subject=subject,
        type=DataSubjectRequest.Type.ACCESS,
        status=status,
        due_date=NOW.date(),
        answered_at=answered_at,
    )


def test_closed_privacy_requests_past_the_period_are_deleted_and_open_or_recent_ones_kept(patient_ayse):
    period = timedelta(days=settings.PRIVACY_REQUEST_RETENTION_DAYS)
    assert period == timedelta(days=1095)
    answered_old = privacy_request(patient_ayse, "answered", NOW - period - SECOND)
    rejected_old = privacy_request(patient_ayse, "rejected", NOW - period - SECOND)
    answered_at_boundary = privacy_request(patient_ayse, "answered", NOW - period)
    answered_recent = privacy_request(patient_ayse, "answered", NOW - timedelta(days=10))
    open_old = privacy_request(patient_ayse, "open", None)
    age(DataSubjectRequest, open_old, "updated_at", NOW - period - timedelta(days=100))

    destruction = run()

    assert destruction.counts["privacy.closed_requests"] == 2
    assert set(DataSubjectRequest.objects.values_list("pk", flat=True)) == {
        answered_at_boundary.pk,
        answered_recent.pk,
        open_old.pk,
    }
    assert not DataSubjectRequest.objects.filter(pk__in=[answered_old.pk, rejected_old.pk]).exists()


def test_a_consent_in_force_is_kept_however_old_and_audit_entries_within_their_period(patient_ayse):
    grant_storage(patient_ayse)
    audit_record(actor=patient_ayse, action="test_entry", patient=patient_ayse)
    events = ConsentEvent.objects.count()

    run(now=NOW + timedelta(days=365 * 50))

    assert ConsentEvent.objects.count() == events  # never withdrawn: still the proof of a consent in force
    assert not AuditEntry.objects.filter(action="test_entry").exists()  # 50 years: past its 10


# --- the run ---


def test_every_app_registers_its_rule():
    assert set(retention.registered_rules()) >= {
        "appointments.idempotency_records",
        "health_profiles.expired_share_grants",
        "notifications.final_outbox_rows",
        "privacy.closed_requests",
    }


def test_a_run_records_one_row_with_counts_per_rule_and_no_errors(patient_ayse):
    privacy_request(patient_ayse, "answered", NOW - timedelta(days=2000))

    destruction = run()

    row = DestructionRun.objects.get()
    assert row.pk == destruction.pk
    assert row.errors == {}
    periodic = {name for name, rule in retention.registered_rules().items() if rule.run is not None}
    assert set(row.counts) == periodic
    assert row.counts["privacy.closed_requests"] == 1
    assert row.as_of == NOW
    assert row.started_at <= row.finished_at


def test_a_failing_rule_is_recorded_by_class_name_and_rolled_back_while_the_others_run(
    monkeypatch, patient_ayse, appointment
):
    keep_me = privacy_request(patient_ayse, "answered", NOW)
    idempotency_record(appointment, "old", NOW - timedelta(days=2))

    def broken(now, *, dry_run=False):
        DataSubjectRequest.objects.all().delete()
        raise ValueError("Tip2-diyabet-ZQX")  # a value that must never reach the run row

    monkeypatch.setitem(
        contract._contracts, "aaa", contract.Contract(app="aaa", retention={"aaa.broken": rule_of(broken)})
    )

    destruction = run()

    row = DestructionRun.objects.get(pk=destruction.pk)
    assert row.errors == {"aaa.broken": "ValueError"}
    assert "ZQX" not in str(row.counts) + str(row.errors)
    assert "aaa.broken" not in row.counts
    assert row.counts["appointments.idempotency_records"] == 1
    assert not IdempotencyRecord.objects.exists()
    # The broken rule's own transaction was rolled back.
    assert DataSubjectRequest.objects.filter(pk=keep_me.pk).exists()


def test_a_dry_run_counts_and_deletes_nothing_and_records_no_run(patient_ayse, appointment):
    idempotency_record(appointment, "old", NOW - timedelta(days=2))
    privacy_request(patient_ayse, "rejected", NOW - timedelta(days=2000))

    destruction = run(dry_run=True)

    assert destruction.pk is None
    assert destruction.counts["appointments.idempotency_records"] == 1
    assert destruction.counts["privacy.closed_requests"] == 1
    assert IdempotencyRecord.objects.count() == 1 and DataSubjectRequest.objects.count() == 1
    assert not DestructionRun.objects.exists()


# --- append-only ---


@pytest.fixture
def destruction_row():
    return run()


def test_the_model_refuses_save_and_delete_of_a_run(destruction_row):
    destruction_row.counts = {}
    with pytest.raises(ValueError, match="append-only"):
        destruction_row.save()
    with pytest.raises(ValueError, match="append-only"):
        destruction_row.delete()


def test_queryset_update_and_delete_of_a_run_are_refused_by_the_database(destruction_row):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DestructionRun.objects.filter(pk=destruction_row.pk).update(errors={"x": "y"})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DestructionRun.objects.filter(pk=destruction_row.pk).delete()

    assert DestructionRun.objects.get(pk=destruction_row.pk).errors == {}


def test_raw_sql_update_and_delete_of_a_run_are_refused_by_the_trigger(destruction_row):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE privacy_destructionrun SET errors = %s WHERE id = %s", ['{"x": "y"}', destruction_row.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM privacy_destructionrun WHERE id = %s", [destruction_row.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM privacy_destructionrun WHERE 1 = %s", [1])

    assert DestructionRun.objects.get(pk=destruction_row.pk).errors == {}


def test_the_admin_offers_no_add_change_or_delete_of_runs(destruction_row, platform_admin):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    model_admin = site._registry[DestructionRun]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, destruction_row)
    assert not model_admin.has_delete_permission(request, destruction_row)


# --- schedule, task and command ---


def test_beat_runs_the_destruction_task_once_a_day():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == run_destruction.name]

    assert run_destruction.name == "privacy.tasks.run_destruction"
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
    assert not entries[0].get("args") and not entries[0].get("kwargs")


def test_the_celery_task_runs_a_destruction(patient_ayse):
    privacy_request(patient_ayse, "answered", datetime.now(UTC) - timedelta(days=2000))

    result = run_destruction.delay()

    assert result.successful()
    row = DestructionRun.objects.get()
    assert result.get() == {"run": row.pk, "counts": row.counts, "errors": {}}
    assert row.counts["privacy.closed_requests"] == 1
    assert not DataSubjectRequest.objects.exists()


def test_the_command_prints_counts_per_rule_and_records_the_run(patient_ayse):
    privacy_request(patient_ayse, "answered", datetime.now(UTC) - timedelta(days=2000))
    out = StringIO()

    call_command("run_destruction", stdout=out)

    assert "privacy.closed_requests: deleted 1" in out.getvalue()
    assert "appointments.idempotency_records: deleted 0" in out.getvalue()
    assert DestructionRun.objects.count() == 1 and not DataSubjectRequest.objects.exists()


def test_the_command_dry_run_prints_counts_and_deletes_nothing(patient_ayse):
    privacy_request(patient_ayse, "answered", datetime.now(UTC) - timedelta(days=2000))
    out = StringIO()

    call_command("run_destruction", "--dry-run", stdout=out)

    assert "privacy.closed_requests: would delete 1" in out.getvalue()
    assert DataSubjectRequest.objects.count() == 1 and not DestructionRun.objects.exists()


def test_the_command_fails_when_a_rule_fails_but_records_the_run(monkeypatch):
    def broken(now, *, dry_run=False):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        contract._contracts, "aaa", contract.Contract(app="aaa", retention={"aaa.broken": rule_of(broken)})
    )
    err = StringIO()

    with pytest.raises(CommandError, match="1 retention rule"):
        call_command("run_destruction", stdout=StringIO(), stderr=err)

    assert "aaa.broken: failed (RuntimeError)" in err.getvalue()
    assert DestructionRun.objects.get().errors == {"aaa.broken": "RuntimeError"}
