"""Every appointment action answers with the whole appointment, the shape the booking answers with."""

import pytest

from privacy.models import AuditEntry
from tests.appointments.conftest import at
from tests.appointments.test_lifecycle import past_appointment

pytestmark = pytest.mark.django_db


def booking_keys(as_user, patient, schedule_x, day) -> set:
    body = {"doctor": str(schedule_x.id), "start": at(day, 14).isoformat(), "visit_reason": "kontrol", "exam_type": ""}
    response = as_user(patient).post("/api/v1/appointments/", body)
    assert response.status_code == 201
    return set(response.json())


def test_cancel_and_reschedule_answer_like_the_booking(as_user, ayse, mehmet, booked, schedule_x, day):
    expected = booking_keys(as_user, mehmet, schedule_x, day)

    moved = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 11).isoformat()})
    cancelled = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {"reason": ""})

    assert moved.status_code == 200 and set(moved.json()) == expected
    assert moved.json()["start"] == at(day, 11).isoformat()
    assert moved.json()["visit_reason"] == "baş ağrısı"
    assert cancelled.status_code == 200 and set(cancelled.json()) == expected
    assert cancelled.json()["status"] == "cancelled_by_patient"


@pytest.mark.parametrize("action", ["complete", "no-show"])
def test_the_outcome_answers_like_the_booking_and_the_doctors_read_is_audited(
    as_user, ayse, schedule_x, clinic_x, day, action
):
    expected = booking_keys(as_user, ayse, schedule_x, day)
    appointment = past_appointment(ayse, schedule_x, clinic_x)

    response = as_user(schedule_x.user).post(f"/api/v1/appointments/{appointment.id}/{action}/")

    assert response.status_code == 200 and set(response.json()) == expected
    # The answer shows the visit reason to the doctor: that read is in the patient's access log.
    entry = AuditEntry.objects.get(action="appointment_viewed")
    assert (entry.actor, entry.patient, entry.metadata) == (schedule_x.user, ayse, {"appointment": str(appointment.id)})
