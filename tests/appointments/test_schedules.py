"""Working hours, breaks and time off through the API: who may change them and what they do."""

from datetime import timedelta

import pytest

from appointments.models import Appointment, TimeOff, WorkingHours
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db

HOURS = {"weekday": 0, "start_time": "09:00", "end_time": "12:00", "slot_minutes": 20}


def hours_url(doctor):
    return f"/api/v1/doctors/{doctor.id}/working-hours/"


@pytest.mark.parametrize("who", ["doctor", "clinic_admin_x", "receptionist_x"])
def test_the_doctor_and_their_clinic_staff_set_working_hours(as_user, doctor_x, clinic_x, request, who):
    user = doctor_x.user if who == "doctor" else request.getfixturevalue(who)

    response = as_user(user).post(hours_url(doctor_x), {**HOURS, "clinic": str(clinic_x.id)})

    assert response.status_code == 201, response.json()
    assert response.json()["slot_minutes"] == 20
    assert response.json()["visit_types"] == ["in_person"]


@pytest.mark.parametrize("who", ["staff_y", "patient_ayse", "doctor_y"])
def test_others_cannot_see_or_set_working_hours(as_user, doctor_x, clinic_x, request, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)

    assert as_user(user).post(hours_url(doctor_x), {**HOURS, "clinic": str(clinic_x.id)}).status_code == 403
    assert as_user(user).get(hours_url(doctor_x)).status_code == 403
    assert not WorkingHours.objects.exists()


def test_working_hours_must_be_at_one_of_the_doctors_clinics(as_user, doctor_x, clinic_y):
    response = as_user(doctor_x.user).post(hours_url(doctor_x), {**HOURS, "clinic": str(clinic_y.id)})

    assert response.status_code == 400
    assert "clinic" in response.json()["fields"]


@pytest.mark.parametrize(
    "change",
    [
        {"start_time": "12:00", "end_time": "09:00"},
        {"slot_minutes": 2},
        {"start_time": "09:00", "end_time": "09:10", "slot_minutes": 30},
        {"visit_types": ["teleport"]},
    ],
    ids=["end-before-start", "tiny-slots", "slot-longer-than-hours", "unknown-visit-type"],
)
def test_bad_working_hours_are_validation_errors(as_user, doctor_x, clinic_x, change):
    response = as_user(doctor_x.user).post(hours_url(doctor_x), {**HOURS, "clinic": str(clinic_x.id), **change})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_overlapping_working_hours_are_refused(as_user, schedule_x, clinic_x):
    response = as_user(schedule_x.user).post(
        hours_url(schedule_x), {**HOURS, "start_time": "16:00", "end_time": "18:00", "clinic": str(clinic_x.id)}
    )

    assert response.status_code == 400


def test_working_hours_are_patched_and_deleted(as_user, schedule_x, api, day):
    hours = schedule_x.working_hours.get(weekday=day.weekday())
    client = as_user(schedule_x.user)

    patched = client.patch(f"{hours_url(schedule_x)}{hours.id}/", {"slot_minutes": 60, "visit_types": ["online"]})
    slots = api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json()
    deleted = client.delete(f"{hours_url(schedule_x)}{hours.id}/")

    assert patched.status_code == 200, patched.json()
    assert [slot["start"][11:16] for slot in slots][:3] == ["09:00", "10:00", "11:00"]
    assert slots[0]["visit_types"] == ["online"]
    assert deleted.status_code == 204
    assert api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json() == []


def test_the_list_of_working_hours_has_a_fixed_query_count(as_user, schedule_x, django_assert_num_queries):
    client = as_user(schedule_x.user)
    # 1 user (JWT), 1 doctor, 1 count, 1 page
    with django_assert_num_queries(4):
        response = client.get(hours_url(schedule_x))

    assert response.json()["count"] == 5


def test_breaks_are_added_and_removed(as_user, schedule_x, clinic_x, api, day):
    client = as_user(schedule_x.user)
    created = client.post(
        f"/api/v1/doctors/{schedule_x.id}/breaks/",
        {"clinic": str(clinic_x.id), "weekday": day.weekday(), "start_time": "09:00", "end_time": "10:00"},
    )
    starts = [slot["start"] for slot in api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json()]

    assert created.status_code == 201
    assert starts[0] == at(day, 10).isoformat()
    assert client.delete(f"/api/v1/doctors/{schedule_x.id}/breaks/{created.json()['id']}/").status_code == 204


def time_off(day):
    return {"start": at(day, 8).isoformat(), "end": at(day, 18).isoformat(), "reason": "kongre"}


def test_time_off_over_booked_appointments_is_a_409(as_user, booked, schedule_x, day):
    response = as_user(schedule_x.user).post(f"/api/v1/doctors/{schedule_x.id}/time-off/", time_off(day))

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert "cancel_appointments" in response.json()["fields"]
    assert not TimeOff.objects.exists()
    booked.refresh_from_db()
    assert booked.status == "booked"


def test_time_off_with_cancel_appointments_cancels_them_with_history(as_user, booked, receptionist_x, schedule_x, day):
    response = as_user(receptionist_x).post(
        f"/api/v1/doctors/{schedule_x.id}/time-off/", {**time_off(day), "cancel_appointments": True}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["appointments_cancelled"] == 1
    booked.refresh_from_db()
    assert booked.status == "cancelled_by_clinic"
    change = booked.history.last()
    assert (change.actor, change.from_status, change.to_status) == (receptionist_x, "booked", "cancelled_by_clinic")
    assert change.reason


def test_time_off_without_appointments_just_blocks_the_slots(as_user, schedule_x, ayse, day):
    from appointments.errors import SlotUnavailable

    response = as_user(schedule_x.user).post(f"/api/v1/doctors/{schedule_x.id}/time-off/", time_off(day))

    assert response.status_code == 201
    with pytest.raises(SlotUnavailable):
        book(ayse, schedule_x, at(day, 10))
    assert as_user(schedule_x.user).get(f"/api/v1/doctors/{schedule_x.id}/time-off/").json()["count"] == 1


def test_staff_of_another_clinic_cannot_add_time_off(as_user, booked, staff_y, schedule_x, day):
    response = as_user(staff_y).post(
        f"/api/v1/doctors/{schedule_x.id}/time-off/", {**time_off(day), "cancel_appointments": True}
    )

    assert response.status_code == 403
    assert Appointment.objects.get().status == "booked"


def test_time_off_must_end_after_it_starts(as_user, schedule_x, day):
    response = as_user(schedule_x.user).post(
        f"/api/v1/doctors/{schedule_x.id}/time-off/",
        {"start": at(day, 18).isoformat(), "end": at(day - timedelta(days=1), 8).isoformat()},
    )

    assert response.status_code == 400
