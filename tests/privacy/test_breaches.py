"""The breach register (KVKK Art. 12(5)): the Board's 72-hour deadline from detection, overdue
entries flagged in the daily report (task, command and log), state changes audited, and the
people affected found from the audit trail of the breach window, with their notices queued only
on --send."""

import logging
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from freezegun import freeze_time

from medplatform.errors import ValidationFailed
from notifications.models import Kind, Notification
from privacy.breaches import breach_report, breach_state_change
from privacy.models import AuditEntry, BreachRecord
from privacy.services import audit_record
from privacy.tasks import breach_report_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def breach(detected_at: datetime, **fields) -> BreachRecord:
    values = {
        "description": "Yetkisiz erişim: randevu kayıtları",
        "data_categories": "randevu bilgileri",
        "people_categories": "hastalar",
        "people_affected": 12,
        "window_start": detected_at - 5 * HOUR,
        "window_end": detected_at - HOUR,
        **fields,
    }
    return BreachRecord.objects.create(detected_at=detected_at, **values)


def test_the_board_deadline_is_72_hours_after_detection_and_follows_a_corrected_detection_time():
    entry = breach(NOW)
    assert entry.board_deadline == NOW + 72 * HOUR

    entry.detected_at = NOW - 2 * HOUR
    entry.save()
    entry.refresh_from_db()
    assert entry.board_deadline == NOW + 70 * HOUR


def test_a_breach_past_72_hours_without_a_board_notice_is_overdue_and_one_inside_is_not(caplog):
    late = breach(NOW - 72 * HOUR - timedelta(minutes=1))
    inside = breach(NOW - 71 * HOUR)
    told = breach(NOW - 100 * HOUR)
    breach_state_change(breach=told, actor=None, state=BreachRecord.State.NOTIFIED_BOARD, now=NOW - 90 * HOUR)
    closed = breach(NOW - 200 * HOUR)
    breach_state_change(breach=closed, actor=None, state=BreachRecord.State.CLOSED, now=NOW - 150 * HOUR)

    with caplog.at_level(logging.INFO, logger="privacy.breaches"):
        report = breach_report(now=NOW)

    assert [b.pk for b in report.overdue] == [late.pk]
    assert {b.pk for b in report.open} == {late.pk, inside.pk, told.pk}
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"#{late.pk}" in logged and f"#{inside.pk}" not in logged
    # The log names ids and deadlines, never what the register says happened.
    assert "Yetkisiz" not in logged and "randevu" not in logged
    # One minute earlier the late entry was still inside its 72 hours.
    assert breach_report(now=NOW - 2 * timedelta(minutes=1)).overdue == []


def test_the_daily_task_and_the_command_flag_only_the_overdue_breach():
    late = breach(NOW - 80 * HOUR)
    inside = breach(NOW - 10 * HOUR)

    with freeze_time(NOW):
        result = breach_report_task.delay().get()
        out = StringIO()
        call_command("breach_report", stdout=out)

    assert result["overdue"] == [late.pk]
    assert sorted(result["open"]) == sorted([late.pk, inside.pk])
    lines = out.getvalue().splitlines()
    assert any(line.strip().startswith(f"OVERDUE #{late.pk} ") for line in lines)
    assert any(line.strip().startswith(f"#{inside.pk} ") for line in lines)
    assert lines[-1] == "1 overdue for the Board's notice"


def test_the_report_runs_daily_beside_the_destruction_run():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-breach-report"]
    assert entry["task"] == "privacy.tasks.breach_report"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {6} and entry["schedule"].day_of_week == set(range(7))
    assert "privacy-run-destruction" in settings.CELERY_BEAT_SCHEDULE


def test_a_state_change_is_stamped_and_audited_and_never_goes_back(platform_admin):
    entry = breach(NOW)
    changed = breach_state_change(
        breach=entry, actor=platform_admin, state=BreachRecord.State.NOTIFIED_BOARD, now=NOW + HOUR
    )

    assert changed.state == "notified_board" and changed.board_notified_at == NOW + HOUR
    audit = AuditEntry.objects.get(action="breach_state_changed")
    assert (audit.actor, audit.patient) == (platform_admin, None)
    assert audit.metadata == {"breach": entry.pk, "from": "open", "to": "notified_board"}
    with pytest.raises(ValidationFailed):
        breach_state_change(breach=changed, actor=platform_admin, state=BreachRecord.State.OPEN)
    assert AuditEntry.objects.filter(action="breach_state_changed").count() == 1


def test_the_officer_records_a_breach_and_moves_it_in_the_admin_with_each_step_audited(
    superuser_client, platform_admin
):
    form = {
        "detected_at_0": "2031-03-10",
        "detected_at_1": "09:00:00",
        "description": "Bir dizüstü bilgisayar çalındı",
        "data_categories": "ad, telefon",
        "people_categories": "hastalar",
        "records_affected": "40",
        "people_affected": "20",
        "window_start_0": "2031-03-09",
        "window_start_1": "08:00:00",
        "window_end_0": "2031-03-10",
        "window_end_1": "08:00:00",
        "state": "open",
    }
    added = superuser_client.post("/admin/privacy/breachrecord/add/", form)
    entry = BreachRecord.objects.get()
    changed = superuser_client.post(f"/admin/privacy/breachrecord/{entry.pk}/change/", {**form, "state": "closed"})
    back = superuser_client.post(f"/admin/privacy/breachrecord/{entry.pk}/change/", {**form, "state": "open"})
    listing = superuser_client.get("/admin/privacy/breachrecord/")

    entry.refresh_from_db()
    assert added.status_code == 302 and changed.status_code == 302 and listing.status_code == 200
    assert back.status_code == 200  # the form refuses going back
    assert entry.recorded_by == platform_admin and entry.state == "closed" and entry.closed_at is not None
    assert entry.board_deadline == entry.detected_at + 72 * HOUR
    actions = list(AuditEntry.objects.order_by("at").values_list("action", "actor", "metadata"))
    assert actions == [
        ("breach_recorded", platform_admin.pk, {"breach": entry.pk, "state": "open"}),
        ("breach_state_changed", platform_admin.pk, {"breach": entry.pk, "from": "open", "to": "closed"}),
    ]
    deleted = superuser_client.post(f"/admin/privacy/breachrecord/{entry.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403 and BreachRecord.objects.filter(pk=entry.pk).exists()


# --- the people affected, from the audit trail of the window ---

WINDOW_START = datetime(2031, 3, 1, 0, 0, tzinfo=UTC)
WINDOW_END = datetime(2031, 3, 2, 0, 0, tzinfo=UTC)


def audit_at(when: datetime, *, actor, action: str, patient) -> None:
    with freeze_time(when):
        audit_record(actor=actor, action=action, patient=patient, metadata={"appointment": "x"})


@pytest.fixture
def trail(patient_ayse, patient_mehmet, doctor_x):
    """Who had what read or received when, around a window of 1-2 March 2031."""
    people = {
        "ayse": patient_ayse,
        "mehmet": patient_mehmet,
        "before": UserFactory(email="before@example.test"),
        "after": UserFactory(email="after@example.test"),
        "consent_only": UserFactory(email="consent@example.test"),
        "booked": UserFactory(email="booked@example.test"),
    }
    doctor = doctor_x.user
    audit_at(WINDOW_START, actor=doctor, action="appointment_viewed", patient=people["ayse"])
    audit_at(WINDOW_START + 3 * HOUR, actor=doctor, action="appointment_viewed", patient=people["ayse"])
    audit_at(WINDOW_END, actor=doctor, action="health_profile_read", patient=people["mehmet"])
    audit_at(WINDOW_START + HOUR, actor=people["booked"], action="appointment_booked", patient=people["booked"])
    audit_at(WINDOW_START - timedelta(seconds=1), actor=doctor, action="appointment_viewed", patient=people["before"])
    audit_at(WINDOW_END + timedelta(seconds=1), actor=doctor, action="health_profile_read", patient=people["after"])
    audit_at(
        WINDOW_START + HOUR,
        actor=people["consent_only"],
        action="consent_granted:marketing_messages",
        patient=people["consent_only"],
    )
    return people


def listed_ids(output: str) -> set[str]:
    return {line.split()[0] for line in output.splitlines() if line.startswith("  ")}


def test_the_affected_people_are_exactly_those_whose_data_the_trail_shows_in_the_window(trail):
    entry = breach(WINDOW_END + 10 * HOUR, window_start=WINDOW_START, window_end=WINDOW_END)
    out = StringIO()

    call_command("breach_affected", str(entry.pk), stdout=out)

    expected = {str(trail[name].pk) for name in ("ayse", "mehmet", "booked")}
    assert listed_ids(out.getvalue()) == expected
    assert "3 affected people" in out.getvalue()
    assert "Dry listing" in out.getvalue()
    assert Notification.objects.count() == 0


def test_send_queues_one_neutral_notice_per_affected_person_once(trail):
    entry = breach(WINDOW_END + 10 * HOUR, window_start=WINDOW_START, window_end=WINDOW_END)

    call_command("breach_affected", str(entry.pk), "--send", stdout=StringIO())
    first = set(Notification.objects.values_list("recipient_id", "kind", "event_key"))
    call_command("breach_affected", str(entry.pk), "--send", stdout=StringIO())

    recipients = {recipient for recipient, _kind, _key in first}
    assert recipients == {trail[name].pk for name in ("ayse", "mehmet", "booked")}
    assert {(kind, key) for _recipient, kind, key in first} == {(Kind.BREACH_NOTICE, f"breach:{entry.pk}")}
    assert set(Notification.objects.values_list("recipient_id", "kind", "event_key")) == first
    assert all(context == {} for context in Notification.objects.values_list("context", flat=True))
    prepared = AuditEntry.objects.filter(action="breach_notices_prepared").order_by("at")
    assert prepared.count() == 2 and prepared.first().metadata["people"] == 3


def test_the_notice_has_a_subject_and_neutral_bodies_in_both_languages(patient_ayse):
    from django.template.loader import render_to_string

    from notifications.messages import SUBJECTS

    for language in ("tr", "en"):
        assert SUBJECTS[language][Kind.BREACH_NOTICE]
        for template in (f"{language}/breach_notice.txt", f"{language}/short/breach_notice.txt"):
            body = render_to_string(f"notifications/messages/{template}", {"first_name": patient_ayse.first_name})
            assert "Medplatform" in body and "{" not in body
