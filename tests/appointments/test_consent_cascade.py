"""Withdrawing the booking consent: future bookings cancelled, visit reasons erased, counts audited."""

import pytest

from appointments.models import Appointment
from privacy.models import AuditEntry
from privacy.services import consent_active_grants, consent_withdraw
from tests.appointments.conftest import at, book
from tests.appointments.test_lifecycle import past_appointment

pytestmark = pytest.mark.django_db


def withdraw(patient):
    grant = consent_active_grants(subject=patient, purpose="appointment_health_data").get()
    return consent_withdraw(subject=patient, grant_id=grant.id)


def test_withdrawal_cancels_future_bookings_and_erases_every_visit_reason(ayse, mehmet, schedule_x, clinic_x, day):
    upcoming = book(ayse, schedule_x, at(day, 10), exam_type="EKG")
    earlier = past_appointment(ayse, schedule_x, clinic_x, status="completed")
    Appointment.objects.filter(pk=earlier.pk).update(visit_reason="eski şikayet", exam_type="röntgen")
    someone_else = book(mehmet, schedule_x, at(day, 11))

    withdraw(ayse)

    upcoming.refresh_from_db()
    earlier.refresh_from_db()
    someone_else.refresh_from_db()
    assert upcoming.status == "cancelled_by_patient"
    assert upcoming.history.last().reason == "consent withdrawn"
    assert earlier.status == "completed"
    assert (upcoming.visit_reason, upcoming.exam_type, earlier.visit_reason, earlier.exam_type) == (None,) * 4
    assert (someone_else.status, someone_else.visit_reason) == ("booked", "baş ağrısı")
    entry = AuditEntry.objects.get(action="consent_withdrawn:appointment_health_data")
    assert entry.metadata["appointments_cancelled"] == 1
    assert entry.metadata["visit_reasons_erased"] == 2


def test_withdrawal_through_the_api_frees_the_slot(as_user, ayse, mehmet, schedule_x, day):
    book(ayse, schedule_x, at(day, 10))
    grant = consent_active_grants(subject=ayse, purpose="appointment_health_data").get()

    response = as_user(ayse).post(f"/api/v1/consents/{grant.id}/withdraw/")

    assert response.status_code == 200
    assert book(mehmet, schedule_x, at(day, 10)).status == "booked"
