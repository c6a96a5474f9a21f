"""Cancel, reschedule, complete and no-show, with their error codes and the history they leave."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db


def past_appointment(patient, doctor, clinic, status="booked"):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    return Appointment.objects.create(
        patient=patient, doctor=doctor, clinic=clinic, start=start, end=start + timedelta(minutes=30), status=status
    )


def test_the_patient_cancels_before_the_cutoff(as_user, ayse, booked):
    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {"reason": "işim çıktı"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled_by_patient"
    change = booked.history.last()
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        "booked",
        "cancelled_by_patient",
        ayse,
        "işim çıktı",
    )


def test_a_late_patient_cancellation_gets_too_late_to_cancel(as_user, ayse, booked, clinic_x):
    clinic_x.cancel_cutoff_minutes = 60 * 24 * 60
    clinic_x.save()

    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {})

    assert response.status_code == 409
    assert response.json()["code"] == "too_late_to_cancel"
    booked.refresh_from_db()
    assert booked.status == "booked"


def test_the_doctor_cancels_with_a_reason_even_after_the_patient_cutoff(as_user, booked, schedule_x, clinic_x):
    clinic_x.cancel_cutoff_minutes = 60 * 24 * 60
    clinic_x.save()

    response = as_user(schedule_x.user).post(f"/api/v1/appointments/{booked.id}/cancel/", {"reason": "kongre"})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled_by_clinic"
    assert booked.history.last().actor_role == "doctor"


def test_clinic_staff_must_give_a_reason_to_cancel(as_user, booked, receptionist_x):
    response = as_user(receptionist_x).post(f"/api/v1/appointments/{booked.id}/cancel/", {"reason": " "})

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_a_cancelled_slot_can_be_booked_again(as_user, ayse, mehmet, booked, schedule_x, day):
    as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {})

    again = book(mehmet, schedule_x, at(day, 10))

    assert again.status == "booked"


def test_the_patient_reschedules_to_a_free_slot(as_user, ayse, booked, day):
    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 14).isoformat()})

    assert response.status_code == 200, response.json()
    assert response.json()["start"] == at(day, 14).isoformat()
    booked.refresh_from_db()
    assert (booked.start, booked.end, booked.status) == (at(day, 14), at(day, 14, 30), "booked")
    change = booked.history.last()
    assert (change.reason, change.previous_start) == ("rescheduled", at(day, 10))


def test_rescheduling_into_an_overlapping_slot_of_its_own_is_fine(as_user, ayse, booked, day):
    response = as_user(ayse).post(
        f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 10, 30).isoformat()}
    )

    assert response.status_code == 200


def test_rescheduling_into_a_taken_slot_gets_409_and_keeps_the_booking(as_user, ayse, mehmet, booked, schedule_x, day):
    book(mehmet, schedule_x, at(day, 14))

    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 14).isoformat()})

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    booked.refresh_from_db()
    assert (booked.start, booked.status) == (at(day, 10), "booked")


def test_the_doctor_cannot_reschedule(as_user, booked, schedule_x, day):
    response = as_user(schedule_x.user).post(
        f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 14).isoformat()}
    )

    assert response.status_code == 403


def test_clinic_staff_reschedule(as_user, booked, receptionist_x, day):
    response = as_user(receptionist_x).post(
        f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 15).isoformat()}
    )

    assert response.status_code == 200


def test_a_late_patient_reschedule_gets_too_late_to_cancel(as_user, ayse, booked, clinic_x, day):
    clinic_x.cancel_cutoff_minutes = 60 * 24 * 60
    clinic_x.save()

    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/reschedule/", {"start": at(day, 14).isoformat()})

    assert response.json()["code"] == "too_late_to_cancel"


@pytest.mark.parametrize("action", ["complete", "no-show"])
def test_complete_and_no_show_before_the_start_are_invalid_transitions(as_user, booked, schedule_x, action):
    response = as_user(schedule_x.user).post(f"/api/v1/appointments/{booked.id}/{action}/")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


@pytest.mark.parametrize(("action", "status"), [("complete", "completed"), ("no-show", "no_show")])
def test_the_doctor_marks_the_outcome_after_the_start(as_user, patient_ayse, doctor_x, clinic_x, action, status):
    appointment = past_appointment(patient_ayse, doctor_x, clinic_x)

    response = as_user(doctor_x.user).post(f"/api/v1/appointments/{appointment.id}/{action}/")

    assert response.status_code == 200
    assert response.json()["status"] == status
    assert appointment.history.get().to_status == status


def test_the_patient_cannot_mark_the_outcome(as_user, patient_ayse, doctor_x, clinic_x):
    appointment = past_appointment(patient_ayse, doctor_x, clinic_x)

    response = as_user(patient_ayse).post(f"/api/v1/appointments/{appointment.id}/complete/")

    assert response.status_code == 403


def test_the_clinic_cannot_cancel_an_appointment_that_has_started(as_user, patient_ayse, doctor_x, clinic_x):
    appointment = past_appointment(patient_ayse, doctor_x, clinic_x)

    response = as_user(doctor_x.user).post(f"/api/v1/appointments/{appointment.id}/cancel/", {"reason": "x"})

    assert response.json()["code"] == "invalid_transition"


ENDED = ["completed", "no_show", "cancelled_by_patient", "cancelled_by_clinic"]
ACTIONS = [
    ("cancel", {"reason": "x"}),
    ("complete", {}),
    ("no-show", {}),
    ("reschedule", {"start": "2030-01-07T10:00:00+03:00"}),
]


@pytest.mark.parametrize("status", ENDED)
@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_every_change_from_an_ended_appointment_is_an_invalid_transition(
    as_user, patient_ayse, doctor_x, clinic_x, receptionist_x, status, action, body
):
    appointment = past_appointment(patient_ayse, doctor_x, clinic_x, status=status)

    response = as_user(receptionist_x).post(f"/api/v1/appointments/{appointment.id}/{action}/", body)

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    appointment.refresh_from_db()
    assert appointment.status == status


def test_the_patient_cannot_cancel_twice(as_user, ayse, booked):
    as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {})

    response = as_user(ayse).post(f"/api/v1/appointments/{booked.id}/cancel/", {})

    assert response.json()["code"] == "invalid_transition"
