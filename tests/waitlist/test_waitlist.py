"""The waitlist's API and rules (API.md: /api/v1/waitlist/): joining, the hold a freed slot becomes,
claiming it as a booking, leaving, expiry, and who may see what."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from freezegun import freeze_time

from appointments.models import Appointment
from appointments.services import appointment_cancel
from notifications.messages import render
from notifications.models import Notification
from privacy.models import ConsentEvent, Purpose
from privacy.services import consent_withdraw
from standing.models import ClinicStanding
from tests.appointments.conftest import book
from tests.factories import UserFactory
from tests.waitlist.conftest import WAITLIST, at, grant_booking_consent, join
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services import offers_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def taken(schedule_x, day):
    """doctor_x's 10:00 on `day`, booked by a third patient who may cancel it."""
    other = UserFactory()
    grant_booking_consent(other)
    return book(other, schedule_x, at(day, 10))


def cancel(appointment: Appointment) -> None:
    appointment_cancel(appointment=appointment, actor=appointment.patient)


def test_it_joins_a_waitlist_and_shows_the_entry_waiting(as_user, ayse, schedule_x, day):
    response = join(as_user(ayse), schedule_x, day, day + timedelta(days=3))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "waiting" and body["offer"] is None
    assert (body["doctor"], body["from"], body["to"]) == (str(schedule_x.id), str(day), str(day + timedelta(days=3)))
    assert body["patient"] == str(ayse.id)
    listed = as_user(ayse).get(WAITLIST).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_joining_refuses_unknown_fields_and_bad_days(as_user, ayse, schedule_x, day):
    client = as_user(ayse)

    unknown = join(client, schedule_x, day, status="offered")
    backwards = join(client, schedule_x, day, day - timedelta(days=1))
    past = join(client, schedule_x, timezone.localdate() - timedelta(days=2), day)
    too_far = join(client, schedule_x, day, day + timedelta(days=200))

    assert unknown.status_code == 400 and "status" in unknown.json()["fields"]
    assert backwards.status_code == 400 and "to" in backwards.json()["fields"]
    assert past.status_code == 400 and "from" in past.json()["fields"]
    assert too_far.status_code == 400 and "to" in too_far.json()["fields"]
    assert not WaitlistEntry.objects.exists()


def test_joining_twice_for_one_doctor_is_refused(as_user, ayse, schedule_x, day):
    assert join(as_user(ayse), schedule_x, day).status_code == 201

    again = join(as_user(ayse), schedule_x, day + timedelta(days=1))

    assert again.status_code == 400 and "doctor" in again.json()["fields"]


def test_joining_without_the_booking_consent_is_403_consent_required(as_user, patient_ayse, schedule_x, day):
    response = join(as_user(patient_ayse), schedule_x, day)

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert response.json()["purpose"] == Purpose.APPOINTMENT_HEALTH_DATA
    assert not WaitlistEntry.objects.exists()


def test_a_doctor_cannot_join_a_waitlist(as_user, schedule_x, schedule_y, day):
    assert join(as_user(schedule_y.user), schedule_x, day).status_code == 403


def test_a_cancelled_slot_is_held_for_the_first_in_line_and_nobody_else_can_book_it(
    as_user, ayse, mehmet, taken, schedule_x, day, hold_minutes
):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()

    cancel(taken)

    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "offered"
    offer = shown["offer"]
    assert offer["start"] == at(day, 10).isoformat() and offer["end"] == at(day, 10, 30).isoformat()
    assert offer["clinic"] == str(taken.clinic_id)
    expires = timezone.datetime.fromisoformat(offer["expires_at"])
    assert timedelta(minutes=hold_minutes - 1) < expires - timezone.now() <= timedelta(minutes=hold_minutes)
    assert as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()["status"] == "waiting"
    # the slot list and a direct booking by anybody else treat the held slot as taken
    slots = as_user(None).get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json()
    assert at(day, 10).isoformat() not in {slot["start"] for slot in slots}
    booking = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}
    refused = as_user(mehmet).post("/api/v1/appointments/", booking, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "slot_unavailable"
    # the message is neutral: no visit reason, just the clinic, the time and how long it is held
    message = Notification.objects.get(recipient=ayse, kind="waitlist_offer")
    _subject, body = render(kind=message.kind, language="tr", channel="sms", recipient=ayse, context=message.context)
    assert str(hold_minutes) in body and "baş ağrısı" not in body


def test_the_database_refuses_a_booking_over_a_held_slot_whoever_writes_it(ayse, mehmet, taken, schedule_x, day):
    # given Ayşe holds the cancelled 10:00
    WaitlistEntry.objects.create(patient=ayse, doctor=schedule_x, first_day=day, last_day=day)
    cancel(taken)
    assert WaitlistOffer.objects.get(status="open").patient == ayse

    # when a row for Mehmet is written past every service check, then the trigger refuses it
    with pytest.raises(IntegrityError, match="waitlist_offer_holds_slot"), transaction.atomic():
        Appointment.objects.create(
            patient=mehmet, doctor=schedule_x, clinic=taken.clinic, start=at(day, 10), end=at(day, 10, 30)
        )
    # and one for Ayşe herself is allowed by it
    with transaction.atomic():
        Appointment.objects.create(
            patient=ayse, doctor=schedule_x, clinic=taken.clinic, start=at(day, 10), end=at(day, 10, 30)
        )


def test_claiming_books_the_held_slot_and_answers_the_whole_appointment(as_user, ayse, taken, schedule_x, day):
    entry = join(as_user(ayse), schedule_x, day).json()
    cancel(taken)

    response = as_user(ayse).post(
        f"{WAITLIST}{entry['id']}/claim/", {"visit_reason": "kontrol", "exam_type": "EKG"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked" and body["start"] == at(day, 10).isoformat()
    assert body["visit_reason"] == "kontrol" and body["exam_type"] == "EKG"
    assert [change["to_status"] for change in body["history"]] == ["booked"]
    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "claimed" and shown["offer"] is None and shown["appointment"] == body["id"]
    assert WaitlistOffer.objects.get().status == "claimed"


def test_claim_refuses_unknown_fields(as_user, ayse, taken, schedule_x, day):
    entry = join(as_user(ayse), schedule_x, day).json()
    cancel(taken)

    response = as_user(ayse).post(
        f"{WAITLIST}{entry['id']}/claim/",
        {"visit_reason": "kontrol", "start": at(day, 11).isoformat(), "doctor": str(schedule_x.id)},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"start", "doctor"}
    assert WaitlistOffer.objects.get().status == "open"


def test_claim_after_expiry_is_409_and_the_sweep_passes_the_slot_to_the_next_in_line(
    as_user, ayse, mehmet, taken, schedule_x, day, hold_minutes
):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()
    cancel(taken)

    with freeze_time(timezone.now() + timedelta(minutes=hold_minutes, seconds=1)):
        late = as_user(ayse).post(f"{WAITLIST}{entry['id']}/claim/", {"visit_reason": "kontrol"}, format="json")
        swept = offers_sweep()

    assert late.status_code == 409 and late.json()["code"] == "slot_unavailable"
    assert swept == 1
    assert as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()["status"] == "expired"
    passed = as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()
    assert passed["status"] == "offered" and passed["offer"]["start"] == at(day, 10).isoformat()
    claimed = as_user(mehmet).post(f"{WAITLIST}{second['id']}/claim/", {"visit_reason": "kontrol"}, format="json")
    assert claimed.status_code == 201, claimed.json()


def test_an_unclaimed_slot_is_free_again_when_nobody_else_waits(as_user, ayse, mehmet, taken, schedule_x, day):
    join(as_user(ayse), schedule_x, day)
    cancel(taken)

    with freeze_time(timezone.now() + timedelta(hours=1)):
        offers_sweep()
    booking = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}
    response = as_user(mehmet).post("/api/v1/appointments/", booking, format="json")

    assert response.status_code == 201, response.json()


def test_another_patients_entry_is_404(as_user, ayse, mehmet, taken, schedule_x, day):
    entry = join(as_user(ayse), schedule_x, day).json()
    cancel(taken)
    url = f"{WAITLIST}{entry['id']}/"

    assert as_user(mehmet).get(url).status_code == 404
    assert as_user(mehmet).delete(url).status_code == 404
    claim = as_user(mehmet).post(f"{url}claim/", {"visit_reason": "kontrol"}, format="json")
    assert claim.status_code == 404 and claim.json()["code"] == "not_found"
    assert as_user(mehmet).get(WAITLIST).json()["count"] == 0
    assert WaitlistOffer.objects.get().status == "open"


def test_leaving_passes_the_held_slot_to_the_next_in_line(as_user, ayse, mehmet, taken, schedule_x, day):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()
    cancel(taken)

    response = as_user(ayse).delete(f"{WAITLIST}{entry['id']}/")

    assert response.status_code == 204
    assert as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()["status"] == "left"
    passed = as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()
    assert passed["status"] == "offered" and passed["offer"]["start"] == at(day, 10).isoformat()


def test_a_patient_blocked_at_the_clinic_keeps_their_place_and_the_slot_goes_to_the_next(
    as_user, ayse, mehmet, taken, schedule_x, day
):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()
    # Ayşe's no-shows block her online booking at the slot's clinic: a hold would be a claim refused.
    ClinicStanding.objects.create(patient=ayse, clinic=taken.clinic, blocked_until=timezone.now() + timedelta(days=30))

    cancel(taken)

    assert as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()["status"] == "waiting"
    passed = as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()
    assert passed["status"] == "offered" and passed["offer"]["start"] == at(day, 10).isoformat()
    assert not WaitlistOffer.objects.filter(patient=ayse).exists()


def test_a_patient_holds_one_offer_at_a_time(as_user, ayse, mehmet, schedule_x, day):
    # given two booked slots and Ayşe first in line, Mehmet second
    others = [UserFactory(), UserFactory()]
    for other in others:
        grant_booking_consent(other)
    first = book(others[0], schedule_x, at(day, 10))
    second = book(others[1], schedule_x, at(day, 11))
    join(as_user(ayse), schedule_x, day)
    join(as_user(mehmet), schedule_x, day)

    # when both free up one after the other
    cancel(first)
    cancel(second)

    # then each holds one, in queue order
    held = {offer.patient_id: offer.start for offer in WaitlistOffer.objects.filter(status="open")}
    assert held == {ayse.id: at(day, 10), mehmet.id: at(day, 11)}


def test_claim_without_the_consent_is_403_consent_required_and_the_slot_passes_on(
    as_user, ayse, mehmet, taken, schedule_x, day
):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()
    cancel(taken)

    grant = ConsentEvent.objects.get(subject=ayse, purpose=Purpose.APPOINTMENT_HEALTH_DATA, action="grant")
    consent_withdraw(subject=ayse, grant_id=grant.id)
    response = as_user(ayse).post(f"{WAITLIST}{entry['id']}/claim/", {"visit_reason": "kontrol"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()["status"] == "left"
    assert as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()["status"] == "offered"
    assert not Appointment.objects.filter(patient=ayse).exists()


def test_a_guardian_joins_and_claims_for_a_dependant(as_user, patient_ayse, mehmet, taken, schedule_x, day):
    from tests.accounts.test_dependants import add_child, grant_for

    guardian = as_user(patient_ayse)
    child = add_child(guardian)
    grant_for(guardian, child["id"])

    entry = join(guardian, schedule_x, day, patient=child["id"]).json()
    cancel(taken)
    claimed = guardian.post(f"{WAITLIST}{entry['id']}/claim/", {"visit_reason": "ateş"}, format="json")

    assert entry["patient"] == child["id"]
    assert claimed.status_code == 201, claimed.json()
    assert claimed.json()["patient"] == child["id"]
    # another family cannot name the child
    assert join(as_user(mehmet), schedule_x, day, patient=child["id"]).status_code == 404
    assert as_user(mehmet).get(f"{WAITLIST}{entry['id']}/").status_code == 404


def test_new_working_hours_are_offered_to_the_waitlist(as_user, ayse, schedule_x, clinic_x, day):
    from appointments.models import WorkingHours
    from appointments.services import working_hours_create

    WorkingHours.objects.filter(doctor=schedule_x, weekday=day.weekday()).delete()
    entry = join(as_user(ayse), schedule_x, day).json()

    working_hours_create(
        actor=schedule_x.user,
        doctor=schedule_x,
        clinic=clinic_x,
        weekday=day.weekday(),
        start_time=at(day, 18).timetz().replace(tzinfo=None),
        end_time=at(day, 19).timetz().replace(tzinfo=None),
    )

    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "offered" and shown["offer"]["start"] == at(day, 18).isoformat()


def test_a_visit_released_unconfirmed_is_offered_to_the_first_in_line(as_user, ayse, taken, schedule_x, day):
    from appointments.confirmation import appointment_release

    entry = join(as_user(ayse), schedule_x, day).json()
    Appointment.objects.filter(pk=taken.pk).update(confirmation_due=timezone.now() - timedelta(minutes=1))

    assert appointment_release(appointment_id=taken.pk, now=timezone.now())

    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "offered" and shown["offer"]["start"] == at(day, 10).isoformat()


def test_a_reschedule_away_from_a_slot_offers_the_slot_it_left(as_user, ayse, taken, schedule_x, day):
    from appointments.services import appointment_reschedule

    entry = join(as_user(ayse), schedule_x, day).json()

    appointment_reschedule(appointment=taken, actor=taken.patient, start=at(day, 15))

    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "offered" and shown["offer"]["start"] == at(day, 10).isoformat()


def test_search_does_not_count_a_held_slot_as_free_and_the_index_stays_exact(ayse, taken, schedule_x, day):
    from appointments import availability_index
    from appointments.availability import micros
    from appointments.models import DayAvailability

    WaitlistEntry.objects.create(patient=ayse, doctor=schedule_x, first_day=day, last_day=day)

    cancel(taken)

    row = DayAvailability.objects.get(doctor=schedule_x, day=day)
    assert micros(at(day, 10)) // 1_000_000 not in row.free_starts
    assert availability_index.differences() == []
    # and once the hold lapses with nobody next in line, the index shows the slot free again
    with freeze_time(timezone.now() + timedelta(hours=1)):
        offers_sweep()
    row.refresh_from_db()
    assert micros(at(day, 10)) // 1_000_000 in row.free_starts
    assert availability_index.differences() == []


def test_time_off_over_a_held_slot_withdraws_the_offer_and_the_patient_keeps_their_place(
    as_user, ayse, mehmet, taken, schedule_x, day
):
    from appointments.services import time_off_create

    entry = join(as_user(ayse), schedule_x, day).json()
    join(as_user(mehmet), schedule_x, day)
    cancel(taken)
    assert WaitlistOffer.objects.get(status="open").patient == ayse

    # when the doctor records time off over the held slot
    time_off_create(actor=schedule_x.user, doctor=schedule_x, start=at(day, 9), end=at(day, 12))

    # then the offer is withdrawn and Ayşe waits again, still first: the next freed slot is hers
    assert not WaitlistOffer.objects.filter(status="open").exists()
    assert as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()["status"] == "waiting"
    other = UserFactory()
    grant_booking_consent(other)
    cancel(book(other, schedule_x, at(day, 14)))
    assert WaitlistOffer.objects.get(status="open").patient == ayse


def test_a_holder_who_books_the_held_slot_directly_counts_as_claimed_at_the_sweep(
    as_user, ayse, mehmet, taken, schedule_x, day, hold_minutes
):
    entry = join(as_user(ayse), schedule_x, day).json()
    second = join(as_user(mehmet), schedule_x, day).json()
    cancel(taken)
    booking = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}
    booked = as_user(ayse).post("/api/v1/appointments/", booking, format="json")
    assert booked.status_code == 201, booked.json()

    with freeze_time(timezone.now() + timedelta(minutes=hold_minutes, seconds=1)):
        assert offers_sweep() == 0

    shown = as_user(ayse).get(f"{WAITLIST}{entry['id']}/").json()
    assert shown["status"] == "claimed" and shown["appointment"] == booked.json()["id"]
    assert as_user(mehmet).get(f"{WAITLIST}{second['id']}/").json()["status"] == "waiting"


def test_a_holder_booking_another_slot_that_day_leaves_the_held_slot_busy_in_the_index(
    as_user, ayse, taken, schedule_x, day
):
    from appointments import availability_index
    from appointments.availability import micros
    from appointments.models import DayAvailability

    join(as_user(ayse), schedule_x, day)
    cancel(taken)
    assert WaitlistOffer.objects.get(status="open").start == at(day, 10)

    # when Ayşe books 11:00 directly: her booking reads the day with her own hold free, and the
    # index is kept from that read
    booking = {"doctor": str(schedule_x.id), "start": at(day, 11).isoformat(), "visit_reason": "kontrol"}
    assert as_user(ayse).post("/api/v1/appointments/", booking, format="json").status_code == 201

    # then 10:00 stays busy for everybody else in the index, as a recomputation says
    row = DayAvailability.objects.get(doctor=schedule_x, day=day)
    assert micros(at(day, 10)) // 1_000_000 not in row.free_starts
    assert micros(at(day, 11)) // 1_000_000 not in row.free_starts
    assert availability_index.differences() == []
