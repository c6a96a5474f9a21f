from datetime import timedelta

import pytest
from django.conf import settings

from appointments.models import Appointment, AppointmentStatusChange
from privacy.models import AuditEntry
from tests.appointments.conftest import at

pytestmark = pytest.mark.django_db


def booking(doctor, start, **extra):
    return {"doctor": str(doctor.id), "start": start.isoformat(), "visit_reason": "göğüs ağrısı", **extra}


def test_a_patient_with_consent_books_a_free_slot(as_user, ayse, schedule_x, clinic_x, day):
    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 10), exam_type="EKG"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked"
    assert body["doctor"] == str(schedule_x.id)
    assert body["clinic"] == str(clinic_x.id)
    assert body["start"] == at(day, 10).isoformat()
    assert body["end"] == at(day, 10, 30).isoformat()
    assert body["visit_type"] == "in_person"
    assert body["meeting_url"] is None
    assert (body["visit_reason"], body["exam_type"]) == ("göğüs ağrısı", "EKG")
    appointment = Appointment.objects.get()
    assert [(c.from_status, c.to_status) for c in appointment.history.all()] == [("", "booked")]
    assert AuditEntry.objects.filter(action="appointment_booked", patient=ayse).count() == 1


def test_the_visit_reason_is_encrypted_at_rest(ayse, booked):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT visit_reason, exam_type FROM appointments_appointment")
        stored_reason, stored_exam = cursor.fetchone()
    assert b"ba" not in bytes(stored_reason)
    assert b"EKG" not in bytes(stored_exam)
    assert Appointment.objects.get().visit_reason == "baş ağrısı"


def test_booking_without_the_booking_consent_is_refused(as_user, patient_mehmet, schedule_x, day):
    response = as_user(patient_mehmet).post("/api/v1/appointments/", booking(schedule_x, at(day, 10)))

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert not Appointment.objects.exists()


def test_booking_after_the_consent_is_withdrawn_is_refused(as_user, ayse, schedule_x, day):
    from privacy.services import consent_active_grants, consent_withdraw

    grant = consent_active_grants(subject=ayse, purpose="appointment_health_data").get()
    consent_withdraw(subject=ayse, grant_id=grant.id)

    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 10)))

    assert response.json()["code"] == "consent_required"


def test_second_booking_of_a_taken_slot_gets_409(as_user, booked, mehmet, schedule_x, day):
    response = as_user(mehmet).post("/api/v1/appointments/", booking(schedule_x, at(day, 10)))

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("hour", "minute"),
    [(8, 30), (17, 0), (12, 30), (13, 0), (10, 15)],
    ids=["before-hours", "after-hours", "break-start", "inside-break", "not-on-the-slot-grid"],
)
def test_a_time_that_is_not_a_slot_gets_409(as_user, ayse, schedule_x, day, hour, minute):
    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, hour, minute)))

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


def test_a_weekend_gets_409(as_user, ayse, schedule_x, day):
    saturday = day + timedelta(days=5 - day.weekday())

    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(saturday, 10)))

    assert response.json()["code"] == "slot_unavailable"


def test_a_naive_start_time_is_a_validation_error(as_user, ayse, schedule_x, day):
    response = as_user(ayse).post(
        "/api/v1/appointments/", {**booking(schedule_x, at(day, 10)), "start": f"{day.isoformat()}T10:00:00"}
    )

    assert response.status_code == 400
    assert "start" in response.json()["fields"]


def test_the_client_cannot_set_patient_status_or_times(as_user, ayse, mehmet, schedule_x, day):
    refused = {
        "status": "completed",
        "end": at(day, 16).isoformat(),
        "created_at": "2020-01-01T00:00:00Z",
        "meeting_url": "https://evil.example/room",
        "id": "00000000-0000-0000-0000-000000000001",
    }

    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 10), **refused))

    # API.md: unknown and read-only fields are refused by name, not silently ignored.
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == set(refused)
    assert not Appointment.objects.exists()
    # `patient` is for a guardian's dependant (API.md): anyone else's id is not found
    for_mehmet = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 10), patient=str(mehmet.id)))
    assert for_mehmet.status_code == 404
    assert not Appointment.objects.exists()
    assert as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 10))).status_code == 201
    assert Appointment.objects.get().patient == ayse


def test_a_patch_with_anything_but_the_visit_details_is_refused(as_user, ayse, mehmet, booked, clinic_y, day):
    response = as_user(ayse).patch(
        f"/api/v1/appointments/{booked.id}/",
        {
            "visit_reason": "kontrol",
            "patient": str(mehmet.id),
            "doctor": str(mehmet.id),
            "clinic": str(clinic_y.id),
            "status": "completed",
            "start": at(day, 15).isoformat(),
            "end": at(day, 16).isoformat(),
            "updated_at": "2020-01-01T00:00:00Z",
        },
    )

    # A PATCH with `start` must not answer 200 having moved nothing: every read-only field is named.
    assert response.status_code == 400, response.json()
    assert set(response.json()["fields"]) == {"patient", "doctor", "clinic", "status", "start", "end", "updated_at"}
    booked.refresh_from_db()
    assert booked.visit_reason == "baş ağrısı"
    assert (booked.patient, booked.status, booked.start, booked.end) == (ayse, "booked", at(day, 10), at(day, 10, 30))
    assert booked.clinic != clinic_y

    assert as_user(ayse).patch(f"/api/v1/appointments/{booked.id}/", {"visit_reason": "kontrol"}).status_code == 200
    booked.refresh_from_db()
    assert booked.visit_reason == "kontrol"


def test_only_patients_book(as_user, doctor_y, receptionist_x, schedule_x, day):
    for user in (doctor_y.user, receptionist_x):
        response = as_user(user).post("/api/v1/appointments/", booking(schedule_x, at(day, 10)))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_an_online_visit_gets_a_private_meeting_link(as_user, ayse, schedule_x, receptionist_x, day):
    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 11), visit_type="online"))

    assert response.status_code == 201, response.json()
    url = response.json()["meeting_url"]
    assert url.startswith(settings.MEETING_BASE_URL)
    room = url.removeprefix(settings.MEETING_BASE_URL)
    assert len(room) >= 32
    appointment_id = response.json()["id"]
    # given the same appointment seen by its doctor and by the clinic's receptionist
    doctor_view = as_user(schedule_x.user).get(f"/api/v1/appointments/{appointment_id}/").json()
    staff_view = as_user(receptionist_x).get(f"/api/v1/appointments/{appointment_id}/").json()
    # then only the two people in the call see the link
    assert doctor_view["meeting_url"] == url
    assert staff_view["meeting_url"] is None


def test_online_is_refused_where_the_working_hours_take_in_person_only(as_user, ayse, schedule_x, day):
    schedule_x.working_hours.update(visit_types=["in_person"])

    response = as_user(ayse).post("/api/v1/appointments/", booking(schedule_x, at(day, 11), visit_type="online"))

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


def test_the_status_history_records_the_booking(booked, ayse):
    change = AppointmentStatusChange.objects.get(appointment=booked)

    assert (change.actor, change.actor_role, change.to_status) == (ayse, "patient", "booked")
