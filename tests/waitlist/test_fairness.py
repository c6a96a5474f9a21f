"""The waitlist's fairness on the real PostgreSQL (issue 15's "done means"): 20 patients on one
waitlist, 5 slots freed at once by ONE time-off change; the first five in line each get exactly
one hold, nobody else can book those slots during the hold (racing with barriers), expired holds
pass on in queue order, and no slot is offered twice. Run 20 times: it must be deterministic."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from appointments.models import Appointment
from appointments.services import appointment_cancel, time_off_create
from notifications.models import Notification
from tests.appointments.conftest import book, working_day
from tests.concurrency import responses_at_once, run_at_once
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.waitlist.conftest import WAITLIST, at, grant_booking_consent, remove_time_off, slot_starts
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services import offers_sweep, waitlist_join

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROUNDS = 20
PATIENTS = 20
FREED = 5


def patients(count: int) -> list:
    users = [UserFactory() for _ in range(count)]
    for user in users:
        grant_booking_consent(user)
    return users


def open_offers() -> dict:
    """{patient id: held start} of the open offers."""
    return {offer.patient_id: offer.start for offer in WaitlistOffer.objects.filter(status="open")}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_five_slots_freed_by_one_time_off_change_go_to_the_first_five_in_line_and_pass_on_in_order(
    schedule_x, hold_minutes, round_
):
    # given a doctor away 09:00-11:30 (five 30-minute slots) and 20 patients queued for that day
    day = working_day(days_ahead=7)
    freed = slot_starts(at(day, 9), FREED)
    away, _cancelled = time_off_create(
        actor=schedule_x.user, doctor=schedule_x, start=freed[0], end=freed[-1] + timedelta(minutes=30)
    )
    queue = patients(PATIENTS)
    entries = [
        waitlist_join(actor=patient, patient=patient, doctor=schedule_x, first_day=day, last_day=day)
        for patient in queue
    ]

    # when ONE time-off change frees the five slots at once
    remove_time_off(schedule_x, away)

    # then the first five in line each hold exactly one slot, earliest slot to the first in line
    assert open_offers() == {patient.id: start for patient, start in zip(queue[:FREED], freed, strict=True)}
    statuses = list(WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("created_at"))
    assert [entry.status for entry in statuses] == ["offered"] * FREED + ["waiting"] * (PATIENTS - FREED)
    assert Notification.objects.filter(kind="waitlist_offer").values("recipient").distinct().count() == FREED
    slots = client_for(None).get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json()
    assert not {start.isoformat() for start in freed} & {slot["start"] for slot in slots}

    # and nobody else can book a held slot: the other fifteen try all five at the same instant
    others = queue[FREED:]
    results = responses_at_once(
        [
            lambda p=patient, s=freed[i % FREED]: client_for(p).post(
                "/api/v1/appointments/",
                {"doctor": str(schedule_x.id), "start": s.isoformat(), "visit_reason": "kontrol"},
                format="json",
            )
            for i, patient in enumerate(others)
        ]
    )
    assert [(status, body["code"]) for status, body in results] == [(409, "slot_unavailable")] * len(others)
    assert not Appointment.objects.filter(doctor=schedule_x, start__in=freed).exists()

    # when the holds lapse unclaimed and the sweeper runs
    with freeze_time(timezone.now() + timedelta(minutes=hold_minutes, seconds=1)):
        assert offers_sweep() == FREED

    # then they pass on in queue order: patients 6-10 hold the same slots, again earliest first
    assert open_offers() == {patient.id: start for patient, start in zip(queue[FREED : 2 * FREED], freed, strict=True)}
    statuses = list(WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("created_at"))
    assert [entry.status for entry in statuses] == ["expired"] * FREED + ["offered"] * FREED + ["waiting"] * 10
    # and no slot was ever offered twice at once: each start went to exactly patients i and i+5, in turn
    for i, start in enumerate(freed):
        offered_to = list(
            WaitlistOffer.objects.filter(start=start).order_by("created_at").values_list("patient_id", flat=True)
        )
        assert offered_to == [queue[i].id, queue[i + FREED].id]

    # and a holder claiming races four others booking the same slot: only the holder gets it
    holder = queue[FREED]
    holder_entry = entries[FREED]
    rivals = queue[2 * FREED : 2 * FREED + 4]
    booking = {"doctor": str(schedule_x.id), "start": freed[0].isoformat(), "visit_reason": "kontrol"}
    results = responses_at_once(
        [
            lambda: client_for(holder).post(
                f"{WAITLIST}{holder_entry.id}/claim/", {"visit_reason": "kontrol"}, format="json"
            ),
            *[lambda p=p: client_for(p).post("/api/v1/appointments/", booking, format="json") for p in rivals],
        ]
    )
    assert results[0][0] == 201, results
    assert [(status, body["code"]) for status, body in results[1:]] == [(409, "slot_unavailable")] * len(rivals)
    booked = Appointment.objects.get(doctor=schedule_x, start=freed[0], status="booked")
    assert booked.patient == holder


def test_two_slots_freed_at_once_at_two_doctors_never_go_to_one_patient(schedule_x, schedule_y):
    # given Ayşe first in line at both doctors, and a second patient behind her at each
    day = working_day(days_ahead=7)
    ayse, second_x, second_y = patients(3)
    for patient, doctor in ((ayse, schedule_x), (ayse, schedule_y), (second_x, schedule_x), (second_y, schedule_y)):
        waitlist_join(actor=patient, patient=patient, doctor=doctor, first_day=day, last_day=day)
    booked_x = book(patients(1)[0], schedule_x, at(day, 10))
    booked_y = book(patients(1)[0], schedule_y, at(day, 10))

    # when both bookings are cancelled at the same instant
    results = run_at_once(
        [
            lambda: appointment_cancel(appointment=booked_x, actor=booked_x.patient),
            lambda: appointment_cancel(appointment=booked_y, actor=booked_y.patient),
        ]
    )

    # then Ayşe holds one of them, and the other went to the next in line at that doctor
    assert [kind for kind, _value in results] == ["ok", "ok"], results
    held = WaitlistOffer.objects.filter(status="open")
    assert held.count() == 2
    assert held.filter(patient=ayse).count() == 1
    other = held.exclude(patient=ayse).get()
    assert other.patient == (second_y if held.get(patient=ayse).doctor == schedule_x else second_x)
