"""Issue 11: a doctor of two clinics is in one place at a time, and a booking names its clinic."""

from datetime import time

import pytest

from appointments import availability_index, locks
from appointments.models import Appointment, VisitType, WorkingHours
from tests.appointments.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_clinics(doctor_x, clinic_x, clinic_y, day):
    """doctor_x on `day`'s weekday: clinic_x 09:00–12:00, clinic_y 13:00–17:00."""
    doctor_x.clinics.add(clinic_y)
    for clinic, start, end in ((clinic_x, time(9), time(12)), (clinic_y, time(13), time(17))):
        WorkingHours.objects.create(
            doctor=doctor_x,
            clinic=clinic,
            weekday=day.weekday(),
            start_time=start,
            end_time=end,
            slot_minutes=30,
            visit_types=[VisitType.IN_PERSON],
        )
    locks.hold_doctors([doctor_x.id])
    availability_index.refresh_doctor(doctor_id=doctor_x.id)
    return doctor_x


def _hours(clinic, day, start, end) -> dict:
    return {"clinic": str(clinic.id), "weekday": day.weekday(), "start_time": start, "end_time": end}


def test_hours_overlapping_the_other_clinics_are_refused_naming_them(as_user, two_clinics, clinic_x, clinic_y, day):
    url = f"/api/v1/doctors/{two_clinics.id}/working-hours/"

    response = as_user(two_clinics.user).post(url, _hours(clinic_y, day, "11:00", "12:30"))

    assert response.status_code == 400, response.content
    message = response.json()["fields"]["start_time"][0]
    assert "09:00" in message and "12:00" in message and clinic_x.name in message
    assert WorkingHours.objects.filter(clinic=clinic_y).count() == 1


def test_moving_hours_onto_the_other_clinics_is_refused(as_user, two_clinics, clinic_y, day):
    hours = WorkingHours.objects.get(clinic=clinic_y)

    response = as_user(two_clinics.user).patch(
        f"/api/v1/doctors/{two_clinics.id}/working-hours/{hours.id}/", {"start_time": "10:00"}
    )

    assert response.status_code == 400, response.content
    assert "start_time" in response.json()["fields"]
    hours.refresh_from_db()
    assert hours.start_time == time(13)


def test_hours_next_to_the_other_clinics_are_fine(as_user, two_clinics, clinic_y, day):
    response = as_user(two_clinics.user).post(
        f"/api/v1/doctors/{two_clinics.id}/working-hours/", _hours(clinic_y, day, "12:00", "13:00")
    )

    assert response.status_code == 201, response.content


def _book(as_user, patient, doctor, start, **extra):
    body = {"doctor": str(doctor.id), "start": start.isoformat(), "visit_reason": "kontrol", **extra}
    return as_user(patient).post("/api/v1/appointments/", body)


def test_a_booking_at_the_chosen_clinic_lands_there(as_user, ayse, two_clinics, clinic_y, day):
    response = _book(as_user, ayse, two_clinics, at(day, 14), clinic=str(clinic_y.id))

    assert response.status_code == 201, response.content
    assert response.json()["clinic"] == str(clinic_y.id)
    assert Appointment.objects.get().clinic_id == clinic_y.id


def test_a_booking_never_lands_at_a_clinic_the_patient_did_not_choose(as_user, ayse, two_clinics, clinic_y, day):
    # 10:00 is a clinic_x slot; the patient chose clinic_y.
    response = _book(as_user, ayse, two_clinics, at(day, 10), clinic=str(clinic_y.id))

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "slot_unavailable"
    assert "clinic" in response.json()["fields"]
    assert not Appointment.objects.exists()


def test_a_booking_with_a_doctor_of_two_clinics_must_name_the_clinic(as_user, ayse, two_clinics, day):
    response = _book(as_user, ayse, two_clinics, at(day, 10))

    assert response.status_code == 400, response.content
    assert "clinic" in response.json()["fields"]
    assert not Appointment.objects.exists()


def test_a_clinic_the_doctor_does_not_work_at_is_refused(as_user, ayse, schedule_x, clinic_y, day):
    response = _book(as_user, ayse, schedule_x, at(day, 10), clinic=str(clinic_y.id))

    assert response.status_code == 400, response.content
    assert "clinic" in response.json()["fields"]
    assert not Appointment.objects.exists()


def test_a_doctor_of_one_clinic_needs_no_clinic_in_the_booking(as_user, ayse, schedule_x, clinic_x, day):
    assert _book(as_user, ayse, schedule_x, at(day, 10)).status_code == 201
