"""The Django admin is no back door around the schedule services: working hours, breaks, time off
and appointments are listed and shown there, never added, changed or deleted."""

from datetime import time, timedelta

import pytest

from appointments.models import Appointment, Break, TimeOff, WorkingHours
from tests.appointments.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def time_off_x(schedule_x, day):
    return TimeOff.objects.create(
        doctor=schedule_x, start=at(day + timedelta(days=7), 9), end=at(day + timedelta(days=7), 17)
    )


def _schedule_rows(schedule_x, time_off_x):
    return {
        "workinghours": WorkingHours.objects.filter(doctor=schedule_x).first(),
        "break": Break.objects.filter(doctor=schedule_x).first(),
        "timeoff": time_off_x,
    }


@pytest.mark.parametrize("model", ["workinghours", "break", "timeoff"])
def test_the_schedule_admin_lists_and_shows_but_refuses_add_change_and_delete(
    superuser_client, schedule_x, time_off_x, model
):
    row = _schedule_rows(schedule_x, time_off_x)[model]
    base = f"/admin/appointments/{model}/"
    before = {field.name: getattr(row, field.attname) for field in row._meta.concrete_fields}

    listing = superuser_client.get(base)
    view = superuser_client.get(f"{base}{row.pk}/change/")
    add_page = superuser_client.get(f"{base}add/")
    change = superuser_client.post(f"{base}{row.pk}/change/", {"start_time": "05:00", "end_time": "23:00"})
    delete_page = superuser_client.get(f"{base}{row.pk}/delete/")
    delete = superuser_client.post(f"{base}{row.pk}/delete/", {"post": "yes"})
    bulk_delete = superuser_client.post(base, {"action": "delete_selected", "_selected_action": [str(row.pk)]})

    assert listing.status_code == 200 and view.status_code == 200
    assert b'name="_save"' not in view.content
    assert [add_page.status_code, change.status_code, delete_page.status_code, delete.status_code] == [403] * 4
    # Without a delete permission the action does not exist: the changelist says so and deletes nothing.
    assert bulk_delete.status_code in (200, 302)
    row.refresh_from_db()
    assert {field.name: getattr(row, field.attname) for field in row._meta.concrete_fields} == before


def test_time_off_over_a_booked_visit_cannot_be_added_in_the_admin(superuser_client, booked, schedule_x, day):
    response = superuser_client.post(
        "/admin/appointments/timeoff/add/",
        {
            "doctor": str(schedule_x.pk),
            "start_0": day.isoformat(),
            "start_1": "09:00",
            "end_0": day.isoformat(),
            "end_1": "17:00",
            "reason": "congress",
        },
    )

    booked.refresh_from_db()
    assert response.status_code == 403
    assert not TimeOff.objects.exists()
    assert booked.status == Appointment.Status.BOOKED


def test_working_hours_cannot_be_added_in_the_admin(superuser_client, schedule_x, clinic_x):
    count = WorkingHours.objects.count()

    response = superuser_client.post(
        "/admin/appointments/workinghours/add/",
        {
            "doctor": str(schedule_x.pk),
            "clinic": str(clinic_x.pk),
            "weekday": "0",
            "start_time": time(18).isoformat(),
            "end_time": time(17).isoformat(),
            "slot_minutes": "7",
        },
    )

    assert response.status_code == 403
    assert WorkingHours.objects.count() == count


def test_an_appointment_is_shown_but_not_changed_or_deleted_in_the_admin(superuser_client, booked):
    url = f"/admin/appointments/appointment/{booked.pk}/"

    view = superuser_client.get(f"{url}change/")
    change = superuser_client.post(f"{url}change/", {"status": "completed"})
    delete = superuser_client.post(f"{url}delete/", {"post": "yes"})

    booked.refresh_from_db()
    assert view.status_code == 200
    assert "baş ağrısı" not in view.content.decode()
    assert [change.status_code, delete.status_code] == [403, 403]
    assert booked.status == Appointment.Status.BOOKED
