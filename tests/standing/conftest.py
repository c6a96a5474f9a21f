"""Missed visits and the calls the no-show policy's tests share."""

from datetime import timedelta

from appointments.models import Appointment
from tests.appointments.conftest import (  # noqa: F401 - fixtures shared with the appointment tests
    ayse,
    grant_booking_consent,
    schedule_x,
    schedule_y,
)
from tests.conftest import client_for
from tests.reviews.factories import past_appointment

STANDING = "/api/v1/me/standing/"
APPEALS = "/api/v1/appeals/"


def visit_ended(patient, doctor, days_ago: int) -> Appointment:
    """A booked visit that started `days_ago` days ago and was never marked."""
    return past_appointment(
        patient=patient, doctor=doctor, ended_ago=timedelta(days=days_ago), status=Appointment.Status.BOOKED
    )


def mark_no_show(doctor, appointment: Appointment) -> None:
    response = client_for(doctor.user).post(f"/api/v1/appointments/{appointment.id}/no-show/")
    assert response.status_code == 200, response.json()


def no_shows(patient, doctor, count: int, first_days_ago: int = 1) -> list[Appointment]:
    """`count` visits of `patient` with `doctor`, each marked a no-show by the doctor."""
    visits = [visit_ended(patient, doctor, first_days_ago + n) for n in range(count)]
    for visit in visits:
        mark_no_show(doctor, visit)
    return visits


def standing_of(client, **params) -> dict:
    response = client.get(STANDING, params)
    assert response.status_code == 200, response.json()
    return response.json()


def appeal(client, strike_id, reason="Hastanedeydim-QQV"):
    return client.post(f"/api/v1/strikes/{strike_id}/appeal/", {"reason": reason}, format="json")


def decide(client, appeal_id, decision: str):
    return client.post(f"{APPEALS}{appeal_id}/{decision}/")
