"""The share check of a doctor's read (selectors.share_active_for) is `active_shares` compiled once
per connection (medplatform.prepared_queries): it must decide exactly as `active_shares` does, at
any time and after any change, and load nothing of the patient but the id and name."""

import datetime
import uuid

import pytest
from django.db.models import Q
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from appointments.models import Appointment
from health_profiles.models import ShareGrant
from health_profiles.selectors import active_shares, share_active_for
from medplatform.prepared_queries import PreparedQuery
from privacy.models import ConsentText, Purpose
from privacy.services import consent_withdraw, current_version
from tests.health_profiles.scenario import full_profile, share_with, visit

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def by_the_orm(doctor, patient, now):
    return (
        active_shares(now=now)
        .filter(doctor__user_id=doctor.user.pk, patient_id=patient.pk)
        .order_by("-created_at", "id")
    ).first()


def assert_same_decision(doctor, patient, now):
    with freeze_time(now):
        checked = share_active_for(doctor_user=doctor.user, patient_id=patient.pk)
    expected = by_the_orm(doctor, patient, now)
    if expected is None:
        assert checked is None
        return None
    assert checked is not None
    assert (checked.id, checked.ends_at, checked.categories, checked.consent_id, checked.expires_at) == (
        expected.id,
        expected.ends_at,
        expected.categories,
        expected.consent_id,
        expected.expires_at,
    )
    return checked


def test_the_share_check_decides_as_active_shares_through_a_shares_life(
    patient_ayse, patient_mehmet, doctor_x, doctor_y
):
    # given two patients: Ayşe shares with X with no expiry and has visits; Mehmet shares with X
    # until a chosen day and with Y
    full_profile(patient_ayse)
    full_profile(patient_mehmet)
    share_with(patient_ayse, doctor_x, categories=["allergy", "condition"])
    chosen_end = timezone.now() + 30 * DAY
    share_with(patient_mehmet, doctor_x, categories=["medication"], expires_at=chosen_end)
    share_with(patient_mehmet, doctor_y, categories=["treatment"])
    granted = ShareGrant.objects.get(patient=patient_ayse).created_at
    visit(patient_ayse, doctor_x, granted + 10 * DAY)
    visit(patient_ayse, doctor_x, granted + 50 * DAY, status=Appointment.Status.CANCELLED_BY_PATIENT)
    instants = [granted + days * DAY for days in (0, 29, 31, 179, 189, 191, 400)]

    # then at every instant, for every pair, the check gives what active_shares gives
    decisions = {}
    for now in instants:
        for doctor in (doctor_x, doctor_y):
            for patient in (patient_ayse, patient_mehmet):
                decisions[now, doctor.pk, patient.pk] = assert_same_decision(doctor, patient, now) is not None
    assert (
        decisions[instants[1], doctor_x.pk, patient_ayse.pk] and decisions[instants[1], doctor_x.pk, patient_mehmet.pk]
    )
    assert not decisions[instants[2], doctor_x.pk, patient_mehmet.pk]  # past the chosen end
    assert decisions[instants[4], doctor_x.pk, patient_ayse.pk]  # 179 days after the last visit
    assert not decisions[instants[5], doctor_x.pk, patient_ayse.pk]  # 181 days after it
    assert not decisions[instants[1], doctor_y.pk, patient_ayse.pk]  # never shared

    # when a later visit is booked, the ended share is in force again, for both
    visit(patient_ayse, doctor_x, granted + 300 * DAY, status=Appointment.Status.BOOKED)
    assert assert_same_decision(doctor_x, patient_ayse, instants[5]) is not None

    # when Mehmet withdraws Y's share, or the share notice changes, nothing is in force
    consent_withdraw(subject=patient_mehmet, grant_id=ShareGrant.objects.get(doctor=doctor_y).consent_id)
    assert assert_same_decision(doctor_y, patient_mehmet, instants[0]) is None
    ConsentText.objects.create(
        purpose=Purpose.HEALTH_PROFILE_SHARE,
        version=current_version(Purpose.HEALTH_PROFILE_SHARE) + 1,
        language="tr",
        text="next",
    )
    assert assert_same_decision(doctor_x, patient_ayse, instants[1]) is None


def test_the_newest_share_in_force_is_the_one_checked(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    share_with(patient_ayse, doctor_x, categories=["medication"])

    checked = assert_same_decision(doctor_x, patient_ayse, timezone.now())

    assert checked.categories == ["medication"]


def test_a_share_naming_no_category_is_not_in_force(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    ShareGrant.objects.update(categories=[])

    assert assert_same_decision(doctor_x, patient_ayse, timezone.now()) is None


def test_a_changed_setting_is_compiled_afresh(patient_ayse, doctor_x):
    # The number of days after the last visit is a parameter of the compiled query.
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    later = ShareGrant.objects.get().created_at + 11 * DAY
    assert assert_same_decision(doctor_x, patient_ayse, later) is not None

    with override_settings(SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT=10):
        assert assert_same_decision(doctor_x, patient_ayse, later) is None

    assert assert_same_decision(doctor_x, patient_ayse, later) is not None


def test_the_share_check_loads_the_patients_id_and_name_and_decrypts_nothing_of_theirs(
    patient_ayse, doctor_x, django_assert_num_queries
):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])

    # 1 query: the share in force, with the patient's name (consent, notice version and last visit
    # as subqueries); the name is then read without another.
    with django_assert_num_queries(1):
        share = share_active_for(doctor_user=doctor_x.user, patient_id=str(patient_ayse.pk))
        assert (share.patient.pk, share.patient.full_name) == (patient_ayse.pk, "Ayşe Yılmaz")

    assert {"national_id", "birth_date", "email", "phone"} <= share.patient.get_deferred_fields()


def test_a_malformed_patient_id_is_refused_as_before(doctor_x):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        share_active_for(doctor_user=doctor_x.user, patient_id="not-a-uuid")


def test_a_prepared_query_takes_only_its_named_parameters_of_the_supported_kinds(patient_ayse, doctor_x):
    with pytest.raises(TypeError):
        PreparedQuery(ShareGrant, lambda n: ShareGrant.objects.values("id"), n=int)
    # A parameter the query uses twice gets the value in both places; one it does not use is refused.
    twice = PreparedQuery(
        ShareGrant,
        lambda who: ShareGrant.objects.filter(Q(patient_id=who) | Q(doctor__user_id=who)).values("id"),
        who=uuid.UUID,
    )
    unused = PreparedQuery(ShareGrant, lambda who: ShareGrant.objects.values("id"), who=uuid.UUID)
    with pytest.raises(ValueError, match="does not appear"):
        unused.rows(who=patient_ayse.pk)
    with pytest.raises(TypeError, match="expected UUID"):
        twice.rows(who=str(patient_ayse.pk))
    by_patient = PreparedQuery(
        ShareGrant, lambda who: ShareGrant.objects.filter(patient_id=who).values("id"), who=uuid.UUID
    )
    with pytest.raises(TypeError):
        by_patient.rows()
    # A clock compiled into the query instead of passed in would stop at the first run: refused.
    frozen_clock = PreparedQuery(
        ShareGrant,
        lambda who: ShareGrant.objects.filter(patient_id=who, created_at__lte=timezone.now()).values("id"),
        who=uuid.UUID,
    )
    with pytest.raises(ValueError, match="date or time that is not a parameter"):
        frozen_clock.rows(who=patient_ayse.pk)

    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])

    assert by_patient.rows(who=patient_ayse.pk) == [{"id": ShareGrant.objects.get().id}]
    assert by_patient.rows(who=doctor_x.user.pk) == []
    share = ShareGrant.objects.get()
    assert twice.rows(who=patient_ayse.pk) == [{"id": share.id}]
    assert twice.rows(who=doctor_x.user.pk) == [{"id": share.id}]
    assert twice.rows(who=uuid.uuid4()) == []


def test_on_postgresql_the_share_check_is_a_prepared_statement_and_other_queries_are_not(patient_ayse, doctor_x):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")

    def prepared() -> list[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
            return cursor.fetchall()

    def share_check_runs() -> list[int]:
        return [runs for statement, runs in prepared() if "health_profiles_sharegrant" in statement]

    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    before = sum(share_check_runs())
    for _ in range(3):
        assert share_active_for(doctor_user=doctor_x.user, patient_id=patient_ayse.pk) is not None
    # An ORM query run as often is not prepared (Django binds it client-side).
    for _ in range(3):
        assert ShareGrant.objects.filter(patient_id=patient_ayse.pk).exists()

    runs = share_check_runs()
    assert len(runs) == 1 and runs[0] - before == 3  # one prepared statement, run three more times
    assert not [statement for statement, _runs in prepared() if statement.startswith('SELECT 1 AS "a"')]
