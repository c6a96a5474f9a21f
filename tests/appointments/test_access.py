"""Who sees which appointment: allowed and refused pairs, lists scoped, cross-clinic 404s."""

from datetime import UTC, timedelta

import pytest

from privacy.models import AuditEntry
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(ayse, mehmet, schedule_x, schedule_y, receptionist_x, staff_y, day):
    """Ayşe with doctor_x (clinic X) at 10:00, Mehmet with doctor_y (clinic Y) at 11:00."""
    return {
        "x": book(ayse, schedule_x, at(day, 10), exam_type="EKG"),
        "y": book(mehmet, schedule_y, at(day, 11)),
    }


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("who", ["patient_ayse", "doctor_x", "receptionist_x"])
def test_the_patient_the_doctor_and_the_clinic_see_the_appointment_and_its_reason(as_user, cast, request, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)

    response = as_user(user).get(f"/api/v1/appointments/{cast['x'].id}/")

    assert response.status_code == 200
    assert (response.json()["visit_reason"], response.json()["exam_type"]) == ("baş ağrısı", "EKG")


@pytest.mark.parametrize("who", ["patient_mehmet", "doctor_y", "staff_y", "platform_admin"])
def test_everyone_else_gets_404_on_the_appointment(as_user, cast, request, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    appointment = cast["x"]

    for method, path, body in [
        ("get", f"/api/v1/appointments/{appointment.id}/", None),
        ("get", f"/api/v1/appointments/{appointment.id}/ics/", None),
        ("patch", f"/api/v1/appointments/{appointment.id}/", {"visit_reason": "x"}),
        ("post", f"/api/v1/appointments/{appointment.id}/cancel/", {"reason": "x"}),
        (
            "post",
            f"/api/v1/appointments/{appointment.id}/reschedule/",
            {"start": at(appointment.start.date(), 14).isoformat()},
        ),
        ("post", f"/api/v1/appointments/{appointment.id}/complete/", {}),
        ("post", f"/api/v1/appointments/{appointment.id}/no-show/", {}),
    ]:
        response = getattr(as_user(user), method)(path, body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["code"] == "not_found"
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_an_anonymous_caller_is_not_authenticated(api, cast):
    assert api.get(f"/api/v1/appointments/{cast['x'].id}/").json()["code"] == "not_authenticated"


def test_a_doctor_or_staff_read_of_the_visit_reason_is_audited(as_user, cast, receptionist_x, ayse):
    as_user(receptionist_x).get(f"/api/v1/appointments/{cast['x'].id}/")
    as_user(ayse).get(f"/api/v1/appointments/{cast['x'].id}/")

    entries = AuditEntry.objects.filter(action="appointment_viewed")
    assert [(entry.actor, entry.patient) for entry in entries] == [(receptionist_x, ayse)]
    assert entries.get().metadata == {"appointment": str(cast["x"].id)}


def test_the_patient_lists_only_their_own(as_user, cast, ayse, django_assert_num_queries):
    client = as_user(ayse)
    # 1 user (JWT), 1 count, 1 page with doctor, user, clinic and patient joined
    with django_assert_num_queries(3):
        response = client.get("/api/v1/appointments/")

    assert ids(response) == [str(cast["x"].id)]
    assert "visit_reason" not in response.json()["results"][0]


def test_the_doctor_lists_their_agenda(as_user, cast, schedule_x, ayse, mehmet, day, django_assert_num_queries):
    for hour in (14, 15, 16):
        book(mehmet if hour != 14 else ayse, schedule_x, at(day + timedelta(days=hour - 13), hour))
    client = as_user(schedule_x.user)

    # 1 user (JWT), 1 count, 1 page: the same whatever the number of rows
    with django_assert_num_queries(3):
        response = client.get("/api/v1/appointments/")

    assert len(ids(response)) == 4
    assert str(cast["y"].id) not in ids(response)


def test_clinic_staff_list_only_their_clinics(as_user, cast, receptionist_x, staff_y, django_assert_num_queries):
    client = as_user(receptionist_x)
    # 1 user (JWT), 1 count, 1 page (membership is a subquery)
    with django_assert_num_queries(3):
        response = client.get("/api/v1/appointments/")

    assert ids(response) == [str(cast["x"].id)]
    assert ids(as_user(staff_y).get("/api/v1/appointments/")) == [str(cast["y"].id)]


def test_the_list_filters_by_status_and_time(as_user, cast, ayse, schedule_x, day):
    later = book(ayse, schedule_x, at(day + timedelta(days=1), 9))
    as_user(ayse).post(f"/api/v1/appointments/{cast['x'].id}/cancel/", {})
    client = as_user(ayse)

    assert ids(client.get("/api/v1/appointments/?status=booked")) == [str(later.id)]
    assert ids(client.get("/api/v1/appointments/?status=cancelled_by_patient")) == [str(cast["x"].id)]
    assert ids(client.get(f"/api/v1/appointments/?from={day}&to={day}")) == [str(cast["x"].id)]
    assert ids(client.get(f"/api/v1/appointments/?from={at(day, 12).isoformat().replace('+', '%2B')}")) == [
        str(later.id)
    ]
    assert client.get("/api/v1/appointments/?status=nonsense").json()["code"] == "validation_error"


def test_the_ics_file_has_the_time_but_never_the_reason(as_user, cast, ayse, schedule_x):
    for user in (ayse, schedule_x.user):
        response = as_user(user).get(f"/api/v1/appointments/{cast['x'].id}/ics/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        body = response.content.decode()
        assert "BEGIN:VEVENT" in body
        assert "DTSTART:" + cast["x"].start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in body
        assert "baş ağrısı" not in body and "EKG" not in body


def test_clinic_staff_get_no_ics(as_user, cast, receptionist_x):
    assert as_user(receptionist_x).get(f"/api/v1/appointments/{cast['x'].id}/ics/").status_code == 403
