"""The no-show policy under concurrency, on the real PostgreSQL: each pair's strikes and appeals
change one at a time (the ClinicStanding row lock), so no block is missed and no appeal is filed
or decided twice."""

import pytest

from accounts.models import ClinicMembership
from appointments.services import appointment_mark_no_show
from standing.models import Appeal, ClinicStanding, NoShowPolicy, Strike
from tests.concurrency import responses_at_once, run_at_once
from tests.conftest import client_for
from tests.factories import clinic_member
from tests.standing.conftest import appeal, decide, no_shows, visit_ended

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROUNDS = 5


def test_two_no_shows_marked_at_once_both_count_and_the_block_is_not_missed(
    patient_ayse, doctor_x, clinic_x, receptionist_x
):
    NoShowPolicy.objects.create(clinic=clinic_x, strikes_to_block=2, block_days=30)
    for round_ in range(ROUNDS):
        # given two missed visits of one patient, marked by two people at the same instant
        first = visit_ended(patient_ayse, doctor_x, days_ago=1 + 2 * round_)
        second = visit_ended(patient_ayse, doctor_x, days_ago=2 + 2 * round_)
        # (the pair's row already there: its creation would order the two by itself)
        Strike.objects.all().delete()
        ClinicStanding.objects.update_or_create(patient=patient_ayse, clinic=clinic_x, defaults={"blocked_until": None})

        results = run_at_once(
            [
                lambda a=first: appointment_mark_no_show(appointment=a, actor=doctor_x.user),
                lambda a=second: appointment_mark_no_show(appointment=a, actor=receptionist_x),
            ]
        )

        # then each saw the other: two strikes, and the second strike's block is there
        assert [kind for kind, _value in results] == ["ok", "ok"], results
        assert Strike.objects.filter(patient=patient_ayse).count() == 2
        assert ClinicStanding.objects.get(patient=patient_ayse, clinic=clinic_x).blocked_until is not None


def test_two_appeals_of_one_strike_at_once_file_one(patient_ayse, doctor_x, clinic_x):
    no_shows(patient_ayse, doctor_x, ROUNDS)
    client = client_for(patient_ayse)
    for strike in Strike.objects.filter(patient=patient_ayse):
        results = responses_at_once([lambda s=strike: appeal(client, s.id) for _ in range(4)])

        assert sorted(status for status, _body in results) == [201, 409, 409, 409], results
        assert {body["code"] for status, body in results if status == 409} == {"invalid_transition"}
        assert Appeal.objects.filter(strike=strike).count() == 1


def test_accept_and_refuse_of_one_appeal_at_once_decide_it_once(patient_ayse, doctor_x, clinic_x, receptionist_x):
    other = clinic_member(clinic_x, ClinicMembership.Role.ADMIN, email="other.admin.x@example.test")
    no_shows(patient_ayse, doctor_x, ROUNDS)
    patient = client_for(patient_ayse)
    appeal_ids = [appeal(patient, strike.id).json()["id"] for strike in Strike.objects.filter(patient=patient_ayse)]
    for appeal_id in appeal_ids:
        results = responses_at_once(
            [
                lambda a=appeal_id: decide(client_for(receptionist_x), a, "accept"),
                lambda a=appeal_id: decide(client_for(other), a, "refuse"),
            ]
        )

        statuses = sorted(status for status, _body in results)
        assert statuses == [200, 409], results
        [winner] = [body for status, body in results if status == 200]
        stored = Appeal.objects.select_related("strike").get(pk=appeal_id)
        assert stored.status == winner["status"]
        assert (stored.strike.voided_at is None) == (winner["status"] == "refused")
