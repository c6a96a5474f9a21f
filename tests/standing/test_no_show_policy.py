"""The no-show policy (issue 15, API.md): strikes per patient and clinic, the booking block with
`booking_blocked` and `until`, the appeal once per strike, the staff's decision."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment
from notifications.models import Kind, Notification
from privacy.models import AuditEntry
from standing.models import Appeal, ClinicStanding, NoShowPolicy, Strike
from tests.appointments.conftest import at, working_day
from tests.conftest import client_for
from tests.standing.conftest import APPEALS, appeal, decide, mark_no_show, no_shows, standing_of, visit_ended

pytestmark = pytest.mark.django_db

APPOINTMENTS = "/api/v1/appointments/"


def try_booking(patient, doctor, hour=10, days_ahead=7):
    body = {"doctor": str(doctor.id), "start": at(working_day(days_ahead), hour).isoformat(), "visit_reason": "kontrol"}
    return client_for(patient).post(APPOINTMENTS, body, format="json")


def test_the_third_no_show_blocks_online_booking_at_that_clinic_until_the_blocks_end(ayse, schedule_x, schedule_y):
    # given two no-shows: still free to book
    no_shows(ayse, schedule_x, 2)
    assert try_booking(ayse, schedule_x, hour=9).status_code == 201

    # when the third is marked
    before = timezone.now()
    no_shows(ayse, schedule_x, 1, first_days_ago=5)
    after = timezone.now()

    # then booking at that clinic is refused with the block's end, in the clinic's offset
    response = try_booking(ayse, schedule_x, hour=11, days_ahead=8)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "booking_blocked"
    until = timezone.datetime.fromisoformat(body["until"])
    assert until.utcoffset() == timedelta(hours=3)
    assert before + timedelta(days=30) <= until <= after + timedelta(days=30)
    assert not Appointment.objects.filter(patient=ayse, start__gt=timezone.now() + timedelta(days=8)).exists()
    # and not at another clinic
    assert try_booking(ayse, schedule_y, hour=11, days_ahead=8).status_code == 201


def test_the_patient_sees_strikes_per_clinic_and_the_blocks_end(ayse, schedule_x):
    visits = no_shows(ayse, schedule_x, 3)

    body = standing_of(client_for(ayse))

    assert body["patient"] == str(ayse.id)
    [clinic] = body["clinics"]
    assert clinic["clinic"] == str(schedule_x.clinics.get().id)
    assert clinic["blocked_until"] == body["blocked_until"] is not None
    assert clinic["strikes_to_block"] == 3
    assert {strike["appointment"] for strike in clinic["strikes"]} == {str(v.id) for v in visits}
    assert {tuple(sorted(strike)) for strike in clinic["strikes"]} == {
        ("appeal", "appointment", "appointment_start", "at", "counts", "id")
    }
    assert all(strike["counts"] and strike["appeal"] is None for strike in clinic["strikes"])


def test_the_block_is_announced_to_the_patient_without_health_data(ayse, schedule_x):
    no_shows(ayse, schedule_x, 3)

    told = Notification.objects.filter(recipient=ayse).order_by("created_at", "id")
    kinds = list(told.values_list("kind", flat=True))
    assert kinds.count(Kind.NO_SHOW_RECORDED) == 2 * kinds.count(Kind.BOOKING_BLOCKED) > 0


def test_a_no_show_at_another_clinic_counts_there_only(ayse, schedule_x, schedule_y):
    no_shows(ayse, schedule_x, 2)
    no_shows(ayse, schedule_y, 1, first_days_ago=10)

    assert try_booking(ayse, schedule_x).status_code == 201
    assert try_booking(ayse, schedule_y, hour=11, days_ahead=8).status_code == 201


def test_an_accepted_appeal_lifts_the_block_at_once_and_the_next_booking_succeeds(
    ayse, schedule_x, receptionist_x, clinic_x
):
    no_shows(ayse, schedule_x, 3)
    assert try_booking(ayse, schedule_x).json()["code"] == "booking_blocked"
    strike = Strike.objects.filter(patient=ayse).first()

    filed = appeal(client_for(ayse), strike.id)
    assert filed.status_code == 201, filed.json()
    assert filed.json()["status"] == "pending" and filed.json()["strike"] == str(strike.id)

    decided = decide(client_for(receptionist_x), filed.json()["id"], "accept")

    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "accepted" and decided.json()["reason"] is None
    assert try_booking(ayse, schedule_x).status_code == 201
    body = standing_of(client_for(ayse))
    assert body["blocked_until"] is None
    [shown] = [s for s in body["clinics"][0]["strikes"] if s["id"] == str(strike.id)]
    assert shown["counts"] is False and shown["appeal"]["status"] == "accepted"
    # audited, with who decided, and the patient told
    entry = AuditEntry.objects.get(action="no_show_appeal_accepted")
    assert entry.actor == receptionist_x and entry.patient == ayse and entry.metadata["blocked_until"] is None
    assert Notification.objects.filter(recipient=ayse, kind=Kind.NO_SHOW_APPEAL_ACCEPTED).exists()


def test_a_refused_appeal_keeps_the_block_and_is_audited_and_told(ayse, schedule_x, clinic_admin_x):
    no_shows(ayse, schedule_x, 3)
    strike = Strike.objects.filter(patient=ayse).first()
    appeal_id = appeal(client_for(ayse), strike.id).json()["id"]

    decided = decide(client_for(clinic_admin_x), appeal_id, "refuse")

    assert decided.status_code == 200 and decided.json()["status"] == "refused"
    assert try_booking(ayse, schedule_x).json()["code"] == "booking_blocked"
    assert AuditEntry.objects.get(action="no_show_appeal_refused").actor == clinic_admin_x
    assert Notification.objects.filter(recipient=ayse, kind=Kind.NO_SHOW_APPEAL_REFUSED).exists()
    # decided once: a second decision is refused
    again = decide(client_for(clinic_admin_x), appeal_id, "accept")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_the_appeal_reason_is_kept_encrypted_and_erased_once_decided(ayse, schedule_x, receptionist_x):
    from django.db import connection

    no_shows(ayse, schedule_x, 1)
    strike = Strike.objects.get(patient=ayse)
    appeal_id = appeal(client_for(ayse), strike.id, reason="Ameliyattaydım-QQV").json()["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM standing_appeal")
        [(stored,)] = cursor.fetchall()
    assert "QQV" not in str(bytes(stored) if isinstance(stored, memoryview) else stored)

    decide(client_for(receptionist_x), appeal_id, "refuse")

    assert Appeal.objects.get(pk=appeal_id).reason is None


def test_a_clinic_cancellation_never_counts(ayse, schedule_x, doctor_x):
    # given three visits the clinic cancelled
    for hour in (9, 10, 11):
        booked = try_booking(ayse, schedule_x, hour=hour, days_ahead=7 + hour)
        assert booked.status_code == 201
        cancelled = client_for(doctor_x.user).post(
            f"{APPOINTMENTS}{booked.json()['id']}/cancel/", {"reason": "Doktor izinde"}, format="json"
        )
        assert cancelled.json()["status"] == "cancelled_by_clinic"

    # then no strike, no block
    assert not Strike.objects.exists()
    assert standing_of(client_for(ayse))["clinics"] == []
    assert try_booking(ayse, schedule_x, hour=14).status_code == 201


def test_a_completed_visit_never_counts(ayse, schedule_x):
    for days_ago in (1, 2, 3):
        visit = visit_ended(ayse, schedule_x, days_ago)
        assert client_for(schedule_x.user).post(f"{APPOINTMENTS}{visit.id}/complete/").status_code == 200

    assert not Strike.objects.exists()


def test_a_second_appeal_of_the_same_strike_is_refused(ayse, schedule_x):
    no_shows(ayse, schedule_x, 1)
    strike = Strike.objects.get(patient=ayse)
    assert appeal(client_for(ayse), strike.id).status_code == 201

    second = appeal(client_for(ayse), strike.id, reason="Yine itiraz")

    assert second.status_code == 409
    assert second.json()["code"] == "invalid_transition"
    assert Appeal.objects.count() == 1


def test_an_appeal_needs_a_reason_and_refuses_unknown_fields(ayse, schedule_x):
    no_shows(ayse, schedule_x, 1)
    strike = Strike.objects.get(patient=ayse)
    client = client_for(ayse)

    empty = client.post(f"/api/v1/strikes/{strike.id}/appeal/", {"reason": ""}, format="json")
    extra = client.post(f"/api/v1/strikes/{strike.id}/appeal/", {"reason": "x", "status": "accepted"}, format="json")

    assert empty.status_code == 400 and "reason" in empty.json()["fields"]
    assert extra.status_code == 400 and "status" in extra.json()["fields"]
    assert not Appeal.objects.exists()


def test_staff_of_another_clinic_cannot_accept_or_see_the_appeal(ayse, schedule_x, staff_y, doctor_x):
    no_shows(ayse, schedule_x, 3)
    strike = Strike.objects.filter(patient=ayse).first()
    appeal_id = appeal(client_for(ayse), strike.id).json()["id"]

    for outsider in (staff_y, doctor_x.user, ayse):
        response = decide(client_for(outsider), appeal_id, "accept")
        assert response.status_code == 404, outsider
        assert response.json()["code"] == "not_found"
    assert client_for(staff_y).get(APPEALS).json()["count"] == 0
    assert Appeal.objects.get(pk=appeal_id).status == "pending"
    assert try_booking(ayse, schedule_x).json()["code"] == "booking_blocked"


def test_another_patients_strike_cannot_be_appealed(ayse, patient_mehmet, schedule_x):
    no_shows(ayse, schedule_x, 1)
    strike = Strike.objects.get(patient=ayse)

    response = appeal(client_for(patient_mehmet), strike.id)

    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert standing_of(client_for(patient_mehmet))["clinics"] == []


def test_the_clinics_staff_see_pending_appeals_with_the_reason_and_each_read_is_audited(
    ayse, schedule_x, receptionist_x
):
    no_shows(ayse, schedule_x, 2)
    first, second = Strike.objects.filter(patient=ayse)
    appeal(client_for(ayse), first.id, reason="Hastanedeydim-QQV")

    listed = client_for(receptionist_x).get(APPEALS, {"status": "pending"})

    assert listed.status_code == 200
    [shown] = listed.json()["results"]
    assert shown["reason"] == "Hastanedeydim-QQV" and shown["patient"] == str(ayse.id)
    assert shown["appointment"] == str(first.appointment_id)
    viewed = AuditEntry.objects.filter(action="no_show_appeal_viewed")
    assert [(e.actor, e.patient) for e in viewed] == [(receptionist_x, ayse)]


def test_a_clinics_own_policy_replaces_the_defaults(ayse, schedule_x, clinic_x):
    NoShowPolicy.objects.create(clinic=clinic_x, strikes_to_block=1, block_days=7)

    no_shows(ayse, schedule_x, 1)

    response = try_booking(ayse, schedule_x)
    assert response.json()["code"] == "booking_blocked"
    until = timezone.datetime.fromisoformat(response.json()["until"])
    assert timedelta(days=6) < until - timezone.now() <= timedelta(days=7)


def test_no_shows_further_apart_than_twelve_months_do_not_block(ayse, schedule_x):
    no_shows(ayse, schedule_x, 2)
    Strike.objects.update(at=timezone.now() - timedelta(days=366))

    no_shows(ayse, schedule_x, 1, first_days_ago=5)

    assert try_booking(ayse, schedule_x).status_code == 201


def test_a_blocked_patient_may_still_move_a_booking_they_hold(ayse, schedule_x):
    booked = try_booking(ayse, schedule_x, hour=9).json()
    no_shows(ayse, schedule_x, 3)

    moved = client_for(ayse).post(
        f"{APPOINTMENTS}{booked['id']}/reschedule/", {"start": at(working_day(), 15).isoformat()}, format="json"
    )

    assert moved.status_code == 200, moved.json()


def test_the_block_ends_by_itself(ayse, schedule_x):
    no_shows(ayse, schedule_x, 3)
    ClinicStanding.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))

    assert try_booking(ayse, schedule_x).status_code == 201


def test_a_guardian_sees_and_appeals_a_dependants_strikes_and_no_one_else_can(
    patient_ayse, patient_mehmet, schedule_x, receptionist_x
):
    from tests.accounts.test_dependants import add_child

    guardian = client_for(patient_ayse)
    child_id = add_child(guardian)["id"]
    from accounts.models import User

    child = User.objects.get(pk=child_id)
    visit = visit_ended(child, schedule_x, 2)
    mark_no_show(schedule_x, visit)

    # the strike is the child's, and the guardian sees it by naming the child
    strike = Strike.objects.get()
    assert strike.patient_id == child.id
    assert standing_of(guardian)["clinics"] == []
    shown = standing_of(guardian, patient=child_id)
    assert shown["clinics"][0]["strikes"][0]["id"] == str(strike.id)
    # another family sees nothing and cannot appeal it
    other = client_for(patient_mehmet)
    assert other.get("/api/v1/me/standing/", {"patient": child_id}).status_code == 404
    assert appeal(other, strike.id).status_code == 404
    # the guardian appeals; the message about the decision goes to the guardian
    filed = appeal(guardian, strike.id)
    assert filed.status_code == 201
    assert Appeal.objects.get().filed_by == patient_ayse
    decide(client_for(receptionist_x), filed.json()["id"], "accept")
    assert Notification.objects.filter(recipient=patient_ayse, kind=Kind.NO_SHOW_APPEAL_ACCEPTED).exists()


def test_the_standing_costs_the_same_queries_for_one_strike_or_many(ayse, schedule_x, schedule_y):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(ayse)
    no_shows(ayse, schedule_x, 1)
    with CaptureQueriesContext(connection) as one:
        standing_of(client)
    no_shows(ayse, schedule_x, 3, first_days_ago=4)
    no_shows(ayse, schedule_y, 2, first_days_ago=10)
    appeal(client, Strike.objects.filter(patient=ayse).first().id)
    with CaptureQueriesContext(connection) as many:
        body = standing_of(client)

    assert sum(len(clinic["strikes"]) for clinic in body["clinics"]) == 6
    # The user, then the strikes with their clinics, visits and appeals, the blocks, the policies.
    assert len(many) == len(one)


def test_a_patient_the_clinic_marked_exempt_gets_no_strike(ayse, schedule_x, clinic_x, receptionist_x):
    visits = [visit_ended(ayse, schedule_x, days_ago) for days_ago in (1, 2, 3)]
    marked = client_for(receptionist_x).post(
        f"/api/v1/clinics/{clinic_x.id}/exemptions/",
        {"patient": str(ayse.id), "reason": "ongoing_treatment"},
        format="json",
    )
    assert marked.status_code == 201, marked.json()

    for visit in visits:
        mark_no_show(schedule_x, visit)

    assert not Strike.objects.exists()
    assert not Notification.objects.filter(kind__in=[Kind.NO_SHOW_RECORDED, Kind.BOOKING_BLOCKED]).exists()
    assert try_booking(ayse, schedule_x).status_code == 201


def test_a_patient_aged_65_on_the_day_of_the_visit_gets_no_strike_and_a_younger_one_does(
    ayse, patient_mehmet, schedule_x
):
    today = timezone.localdate()
    ayse.birth_date = today - timedelta(days=366 * 70)
    ayse.save(update_fields=["birth_date"])
    patient_mehmet.birth_date = today - timedelta(days=365 * 40)
    patient_mehmet.save(update_fields=["birth_date"])

    no_shows(ayse, schedule_x, 1)
    no_shows(patient_mehmet, schedule_x, 1, first_days_ago=4)

    assert list(Strike.objects.values_list("patient", flat=True)) == [patient_mehmet.id]
