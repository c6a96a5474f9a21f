"""Issue 11: another clinic's doctor or staff member is invited, never taken over (API.md)."""

import pytest

from accounts.models import ClinicInvitation, ClinicMembership
from appointments.demo import create_demo_schedule
from appointments.models import TimeOff
from tests.appointments.conftest import at, working_day

pytestmark = pytest.mark.django_db


def _takeover(doctor) -> dict:
    """Only what is public: the doctor's e-mail and registration number."""
    return {
        "email": doctor.user.email,
        "first_name": "Sahte",
        "last_name": "Ad",
        "phone": "05321112233",
        "specialty": "cardiology",
        "registration_number": doctor.registration_number,
    }


def _time_off() -> dict:
    day = working_day()
    return {"start": at(day, 8).isoformat(), "end": at(day, 18).isoformat(), "reason": "izin"}


@pytest.fixture
def invitation(as_user, clinic_admin_x, clinic_x, doctor_y):
    create_demo_schedule(doctor_y, doctor_y.clinics.get())
    response = as_user(clinic_admin_x).post(f"/api/v1/clinics/{clinic_x.id}/doctors/", _takeover(doctor_y))
    assert response.status_code == 202, response.content
    return response.json()["invitation"]


def test_another_clinics_doctor_is_invited_not_taken_over(as_user, invitation, clinic_admin_x, clinic_x, doctor_y):
    assert invitation["clinic"] == str(clinic_x.id)
    assert (invitation["kind"], invitation["status"]) == ("doctor", "pending")
    assert not doctor_y.clinics.filter(pk=clinic_x.pk).exists()
    doctor_y.user.refresh_from_db()
    assert doctor_y.user.first_name != "Sahte"

    admin = as_user(clinic_admin_x)
    assert admin.get(f"/api/v1/doctors/{doctor_y.id}/working-hours/").status_code == 403
    assert admin.get(f"/api/v1/doctors/{doctor_y.id}/time-off/").status_code == 403
    assert admin.post(f"/api/v1/doctors/{doctor_y.id}/time-off/", _time_off()).status_code == 403
    assert not TimeOff.objects.exists()


def test_the_doctor_sees_and_accepts_the_invitation(as_user, invitation, clinic_admin_x, clinic_x, doctor_y):
    doctor = as_user(doctor_y.user)
    listed = doctor.get("/api/v1/me/invitations/").json()
    assert [row["id"] for row in listed["results"]] == [invitation["id"]]
    assert listed["results"][0]["clinic_name"] == clinic_x.name

    response = doctor.post(f"/api/v1/me/invitations/{invitation['id']}/accept/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert doctor_y.clinics.filter(pk=clinic_x.pk).exists()
    assert as_user(clinic_admin_x).get(f"/api/v1/doctors/{doctor_y.id}/working-hours/").status_code == 200
    assert doctor.post(f"/api/v1/me/invitations/{invitation['id']}/accept/").status_code == 400


def test_a_declined_invitation_links_nothing(as_user, invitation, clinic_admin_x, clinic_x, doctor_y):
    response = as_user(doctor_y.user).post(f"/api/v1/me/invitations/{invitation['id']}/decline/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    assert not doctor_y.clinics.filter(pk=clinic_x.pk).exists()
    assert as_user(doctor_y.user).post(f"/api/v1/me/invitations/{invitation['id']}/accept/").status_code == 400
    assert not doctor_y.clinics.filter(pk=clinic_x.pk).exists()
    assert as_user(clinic_admin_x).get(f"/api/v1/doctors/{doctor_y.id}/time-off/").status_code == 403


@pytest.mark.parametrize("who", ["clinic_admin_x", "doctor_x", "staff_y", "patient_ayse"])
def test_nobody_else_sees_accepts_or_declines_an_invitation(request, as_user, invitation, clinic_x, doctor_y, who):
    other = request.getfixturevalue(who)
    other = as_user(getattr(other, "user", other))

    assert other.post(f"/api/v1/me/invitations/{invitation['id']}/accept/").status_code == 404
    assert other.post(f"/api/v1/me/invitations/{invitation['id']}/decline/").status_code == 404
    assert other.get("/api/v1/me/invitations/").json()["count"] == 0
    assert ClinicInvitation.objects.get().status == "pending"
    assert not doctor_y.clinics.filter(pk=clinic_x.pk).exists()


def test_a_second_invitation_while_one_is_pending_is_refused(as_user, invitation, clinic_admin_x, clinic_x, doctor_y):
    response = as_user(clinic_admin_x).post(f"/api/v1/clinics/{clinic_x.id}/doctors/", _takeover(doctor_y))

    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    assert ClinicInvitation.objects.count() == 1


def test_another_clinics_staff_member_is_invited_and_joins_on_accepting(as_user, clinic_admin_x, clinic_x, staff_y):
    body = {"email": staff_y.email, "first_name": "X", "last_name": "Y", "role": "admin"}
    response = as_user(clinic_admin_x).post(f"/api/v1/clinics/{clinic_x.id}/staff/", body)

    assert response.status_code == 202, response.content
    invitation = response.json()["invitation"]
    assert (invitation["kind"], invitation["staff_role"]) == ("staff", "admin")
    assert not ClinicMembership.objects.filter(user=staff_y, clinic=clinic_x).exists()
    assert as_user(staff_y).get("/api/v1/appointments/").json()["count"] == 0

    assert as_user(staff_y).post(f"/api/v1/me/invitations/{invitation['id']}/accept/").status_code == 200
    assert ClinicMembership.objects.get(user=staff_y, clinic=clinic_x).role == "admin"


def test_staff_cannot_put_a_doctor_of_several_clinics_on_time_off(
    as_user, invitation, clinic_admin_x, clinic_x, doctor_y, staff_y
):
    as_user(doctor_y.user).post(f"/api/v1/me/invitations/{invitation['id']}/accept/")

    for staff in (clinic_admin_x, staff_y):
        response = as_user(staff).post(f"/api/v1/doctors/{doctor_y.id}/time-off/", _time_off())
        assert response.status_code == 403, response.content
    assert not TimeOff.objects.exists()
    assert as_user(doctor_y.user).post(f"/api/v1/doctors/{doctor_y.id}/time-off/", _time_off()).status_code == 201


def test_answered_invitations_are_in_the_export_and_go_after_90_days(as_user, invitation, doctor_y):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.privacy_hooks import account_export, answered_clinic_invitations

    as_user(doctor_y.user).post(f"/api/v1/me/invitations/{invitation['id']}/decline/")
    assert [row["status"] for row in account_export(doctor_y.user)["clinic_invitations"]] == ["declined"]

    assert answered_clinic_invitations(timezone.now() + timedelta(days=89)) == 0
    assert answered_clinic_invitations(timezone.now() + timedelta(days=91)) == 1
    assert not ClinicInvitation.objects.exists()
