"""The retention table: every model of ours that holds personal data is covered by a rule (else the
system check and start-up fail); each new rule deletes or anonymises exactly what is past its
period at an injected `now`; a dry run deletes nothing; the table is published through the API
and in docs/retention.md."""

import dataclasses
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import translation

from appointments.models import Appointment, AppointmentStatusChange, TimeOff
from privacy import contract, retention, startup
from privacy.models import AuditEntry, ConsentEvent, DestructionPermit, DestructionRun
from privacy.services import audit_record, consent_withdraw
from reviews.models import Review
from tests.appointments.conftest import grant_booking_consent
from tests.health_profiles.scenario import grant_storage

NOW = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DOCS = Path(settings.BASE_DIR) / "docs" / "retention.md"


def days(setting: str) -> timedelta:
    return timedelta(days=getattr(settings, setting))


def age(model, obj, **fields) -> None:
    """Set auto_now(_add) timestamps, which save() would overwrite."""
    model.objects.filter(pk=obj.pk).update(**fields)


def visit(patient, doctor, clinic, end: datetime, **fields) -> Appointment:
    # Past visits are completed: only booked ones are held apart by the exclusion constraints, and
    # these tests put visits a second apart on purpose.
    fields.setdefault("status", Appointment.Status.COMPLETED)
    return Appointment.objects.create(
        patient=patient, doctor=doctor, clinic=clinic, start=end - timedelta(minutes=30), end=end, **fields
    )


# --- coverage: the registry walk ---


def test_every_model_of_ours_holding_personal_data_has_a_retention_rule():
    personal = {
        model._meta.label
        for config in contract.our_apps()
        for model in config.get_models()
        if contract.holds_personal_data(model)
    }

    assert personal >= {
        "accounts.User",
        "appointments.Appointment",
        "health_profiles.HealthEntry",
        "privacy.AuditEntry",
        "privacy.ConsentEvent",
        "reviews.Review",
        "notifications.Notification",
    }
    assert personal - contract.covered_models() == set()
    assert contract.models_without_retention() == []


def test_a_model_no_rule_covers_fails_the_system_check_and_the_start(monkeypatch):
    without = dataclasses.replace(contract._contracts["reviews"], retention={})
    monkeypatch.setitem(contract._contracts, "reviews", without)

    errors = contract.check_every_personal_model_has_a_retention_rule(None)

    assert "reviews.Review holds personal data and no retention rule covers it" in [e.msg for e in errors]
    assert {e.id for e in errors} == {"privacy.E002"}
    with pytest.raises(ImproperlyConfigured, match="reviews.Review"):
        startup.verify()


def test_a_bare_function_is_not_a_retention_rule(monkeypatch):
    bare = contract.Contract(app="aaa", retention={"aaa.bare": lambda now, dry_run=False: 0})
    monkeypatch.setitem(contract._contracts, "aaa", bare)

    errors = contract.check_every_personal_model_has_a_retention_rule(None)

    assert [e.id for e in errors] == ["privacy.E003"]


def test_every_rule_describes_itself():
    for name, rule in retention.registered_rules().items():
        assert str(rule.kind) and str(rule.from_event) and rule.models, name
        assert rule.action in contract.RetentionAction.values, name
        assert (rule.days() is None) == (rule.period_text is not None), name
        assert rule.period_label(), name


# --- each new rule, with an injected clock ---


@pytest.mark.django_db
def test_visit_reasons_are_erased_after_their_period_and_the_appointment_stays(patient_ayse, doctor_x, clinic_x):
    period = days("VISIT_REASON_RETENTION_DAYS")
    assert period == timedelta(days=730)
    old = visit(patient_ayse, doctor_x, clinic_x, NOW - period - SECOND, visit_reason="Baş ağrısı", exam_type="MR")
    boundary = visit(patient_ayse, doctor_x, clinic_x, NOW - period, visit_reason="Kontrol")

    run = retention.destruction_run(now=NOW)

    assert run.counts["appointments.visit_reasons"] == 1
    old.refresh_from_db()
    boundary.refresh_from_db()
    assert (old.visit_reason, old.exam_type) == (None, None)
    assert boundary.visit_reason == "Kontrol"


@pytest.mark.django_db
def test_appointments_are_deleted_ten_years_after_the_visit_unless_a_review_still_stands(
    patient_ayse, doctor_x, clinic_x
):
    period = days("APPOINTMENT_RETENTION_DAYS")
    old = visit(patient_ayse, doctor_x, clinic_x, NOW - period - SECOND)
    reviewed = visit(patient_ayse, doctor_x, clinic_x, NOW - period - SECOND * 2)
    Review.objects.create(appointment=reviewed, patient=patient_ayse, doctor=doctor_x, rating=5)
    kept = visit(patient_ayse, doctor_x, clinic_x, NOW - period)
    AppointmentStatusChange.objects.create(appointment=old, to_status="completed")

    run = retention.destruction_run(now=NOW)

    assert run.counts["appointments.past_appointments"] == 1
    assert set(Appointment.objects.values_list("pk", flat=True)) == {reviewed.pk, kept.pk}
    assert not AppointmentStatusChange.objects.filter(appointment_id=old.pk).exists()


@pytest.mark.django_db
def test_appointments_of_erased_accounts_are_anonymised_and_other_patients_untouched(
    patient_ayse, patient_mehmet, doctor_x, clinic_x
):
    erased_visit = visit(patient_ayse, doctor_x, clinic_x, NOW - timedelta(days=3), visit_reason="x")
    Appointment.objects.filter(pk=erased_visit.pk).update(meeting_room="room-1")
    mine = AppointmentStatusChange.objects.create(
        appointment=erased_visit, to_status="cancelled_by_patient", actor=patient_ayse, reason="Taşındım"
    )
    staff = AppointmentStatusChange.objects.create(
        appointment=erased_visit, to_status="booked", actor=doctor_x.user, reason=""
    )
    other = visit(patient_mehmet, doctor_x, clinic_x, NOW - timedelta(days=4), visit_reason="y")
    others_change = AppointmentStatusChange.objects.create(
        appointment=other, to_status="cancelled_by_patient", actor=patient_mehmet, reason="İş"
    )
    type(patient_ayse).objects.filter(pk=patient_ayse.pk).update(erased_at=NOW - timedelta(days=1))

    assert retention.destruction_run(now=NOW, dry_run=True).counts["appointments.erased_accounts"] == 1
    run = retention.destruction_run(now=NOW)

    assert run.counts["appointments.erased_accounts"] == 1
    erased_visit.refresh_from_db()
    assert (erased_visit.visit_reason, erased_visit.meeting_room) == (None, None)
    mine.refresh_from_db()
    staff.refresh_from_db()
    assert (mine.reason, mine.actor_id) == ("", None)
    assert staff.actor_id == doctor_x.user.pk
    others_change.refresh_from_db()
    assert (others_change.reason, others_change.actor_id) == ("İş", patient_mehmet.pk)
    assert Appointment.objects.get(pk=other.pk).visit_reason == "y"
    # Nothing left: the next run finds nothing.
    assert retention.destruction_run(now=NOW).counts["appointments.erased_accounts"] == 0


@pytest.mark.django_db
def test_time_off_goes_a_year_after_it_ended(doctor_x):
    period = days("TIME_OFF_RETENTION_DAYS")
    old = TimeOff.objects.create(doctor=doctor_x, start=NOW - period - timedelta(days=2), end=NOW - period - SECOND)
    kept = TimeOff.objects.create(doctor=doctor_x, start=NOW - period - timedelta(days=2), end=NOW - period)

    assert retention.destruction_run(now=NOW).counts["appointments.time_off"] == 1
    assert list(TimeOff.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not TimeOff.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_reviews_go_after_their_period_and_leave_the_rating(patient_ayse, doctor_x, clinic_x):
    period = days("REVIEW_RETENTION_DAYS")
    old = Review.objects.create(
        appointment=visit(patient_ayse, doctor_x, clinic_x, NOW - period - timedelta(days=2)),
        patient=patient_ayse,
        doctor=doctor_x,
        rating=2,
        is_published=True,
    )
    kept = Review.objects.create(
        appointment=visit(patient_ayse, doctor_x, clinic_x, NOW - timedelta(days=2)),
        patient=patient_ayse,
        doctor=doctor_x,
        rating=4,
        is_published=True,
    )
    age(Review, old, created_at=NOW - period - SECOND)
    age(Review, kept, created_at=NOW - period)
    from reviews.services import _rating_change

    _rating_change(doctor_ids_and_ratings=[(doctor_x.pk, 2), (doctor_x.pk, 4)], sign=1)

    assert retention.destruction_run(now=NOW).counts["reviews.reviews"] == 1

    assert list(Review.objects.values_list("pk", flat=True)) == [kept.pk]
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_count, doctor_x.rating_sum) == (1, 4)


@pytest.mark.django_db
def test_audit_entries_go_after_ten_years_and_only_through_the_run(patient_ayse):
    period = days("AUDIT_RETENTION_DAYS")
    assert period == timedelta(days=3650)
    first = audit_record(actor=patient_ayse, action="first_entry", patient=patient_ayse)
    last = audit_record(actor=patient_ayse, action="last_entry", patient=patient_ayse)

    assert retention.destruction_run(now=first.at + period).counts["privacy.audit_entries"] == 0
    # Outside the run, the trigger still refuses a delete.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=first.pk).delete()
    assert AuditEntry.objects.filter(pk__in=[first.pk, last.pk]).count() == 2

    run = retention.destruction_run(now=last.at + period + SECOND)

    assert run.counts["privacy.audit_entries"] >= 2
    assert not AuditEntry.objects.filter(pk__in=[first.pk, last.pk]).exists()
    assert not DestructionPermit.objects.exists()


@pytest.mark.django_db
def test_consent_records_go_ten_years_after_the_consent_ended_and_never_while_in_force(patient_ayse, patient_mehmet):
    period = days("CONSENT_PROOF_RETENTION_DAYS")
    ended = grant_storage(patient_ayse)
    consent_withdraw(subject=patient_ayse, grant_id=ended.pk)
    withdrawal = ConsentEvent.objects.get(grant=ended)
    in_force = grant_booking_consent(patient_mehmet)

    just_before = retention.destruction_run(now=withdrawal.created_at + period)
    assert just_before.counts["privacy.consent_proof"] == 0
    after = retention.destruction_run(now=withdrawal.created_at + period + SECOND)

    assert after.counts["privacy.consent_proof"] == 2
    assert not ConsentEvent.objects.filter(pk__in=[ended.pk, withdrawal.pk]).exists()
    assert ConsentEvent.objects.filter(pk=in_force.pk).exists()


# --- the dry run and the plan ---


@pytest.mark.django_db
def test_a_dry_run_counts_every_kind_and_deletes_nothing(patient_ayse, patient_mehmet, doctor_x, clinic_x):
    far = NOW + timedelta(days=365 * 30)
    visit(patient_ayse, doctor_x, clinic_x, NOW - timedelta(days=1), visit_reason="z")
    TimeOff.objects.create(doctor=doctor_x, start=NOW - timedelta(days=2), end=NOW - timedelta(days=1))
    audit_record(actor=patient_ayse, action="entry", patient=patient_ayse)
    storage = grant_storage(patient_mehmet)
    consent_withdraw(subject=patient_mehmet, grant_id=storage.pk)
    tables = [Appointment, TimeOff, AuditEntry, ConsentEvent]
    before = {model: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in tables}
    reasons_before = list(Appointment.objects.values_list("visit_reason", flat=True))

    run = retention.destruction_run(now=far, dry_run=True)

    assert run.pk is None and not DestructionRun.objects.exists()
    for name in ["appointments.visit_reasons", "appointments.past_appointments", "appointments.time_off"]:
        assert run.counts[name] == 1, name
    assert run.counts["privacy.audit_entries"] >= 1 and run.counts["privacy.consent_proof"] == 2
    assert {model: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in tables} == before
    assert list(Appointment.objects.values_list("visit_reason", flat=True)) == reasons_before


@pytest.mark.django_db
def test_the_command_dry_run_prints_the_plan_with_kind_period_and_cutoff(patient_ayse, doctor_x, clinic_x):
    out = StringIO()

    with translation.override("en"):
        call_command("run_destruction", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "dry run: nothing is deleted" in text
    line = next(row for row in text.splitlines() if row.startswith("appointments.visit_reasons:"))
    assert "would delete 0" in line and "period: 2 year(s)" in line and "cutoff: 20" in line
    assert "Visit reason and exam type" in line
    assert "health_profiles.entries: event-driven" in text
    assert not DestructionRun.objects.exists()


# --- publication ---


@pytest.mark.django_db
def test_anyone_reads_the_retention_table_translated(api):
    english = api.get("/api/v1/privacy/retention/", HTTP_ACCEPT_LANGUAGE="en")
    turkish = api.get("/api/v1/privacy/retention/", HTTP_ACCEPT_LANGUAGE="tr")

    assert english.status_code == 200 and turkish.status_code == 200
    rows = {row["rule"]: row for row in english.json()}
    assert set(rows) == set(retention.registered_rules())
    reasons = rows["appointments.visit_reasons"]
    assert reasons["period_days"] == 730 and reasons["period_setting"] == "VISIT_REASON_RETENTION_DAYS"
    assert reasons["action"] == "destroy" and reasons["from_event"] == "the end of the visit"
    assert rows["appointments.erased_accounts"]["action"] == "anonymise"
    assert rows["health_profiles.entries"]["periodic"] is False
    tr_rows = {row["rule"]: row for row in turkish.json()}
    assert tr_rows["appointments.visit_reasons"]["kind"] != reasons["kind"]
    assert tr_rows["appointments.visit_reasons"]["period"] == "2 yıl"


def test_docs_retention_md_holds_the_registry_table():
    text = DOCS.read_text()
    published = text.split("<!-- retention-table:start -->\n", 1)[1].split("<!-- retention-table:end -->", 1)[0]

    with translation.override("en"):
        assert published == retention.retention_markdown()
