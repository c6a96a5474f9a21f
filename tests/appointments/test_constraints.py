"""The database itself refuses double booking, whatever the Python code checks first."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from appointments.models import Appointment
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db


def insert(patient, doctor, clinic, start, minutes=30, status="booked"):
    with transaction.atomic():
        return Appointment.objects.create(
            patient=patient,
            doctor=doctor,
            clinic=clinic,
            start=start,
            end=start + timedelta(minutes=minutes),
            status=status,
        )


def test_the_database_refuses_a_second_booking_of_the_same_doctor_and_start(
    patient_ayse, patient_mehmet, doctor_x, clinic_x, day
):
    insert(patient_ayse, doctor_x, clinic_x, at(day, 10))

    with pytest.raises(IntegrityError):
        insert(patient_mehmet, doctor_x, clinic_x, at(day, 10))


@pytest.mark.postgres
def test_postgres_refuses_overlapping_ranges_of_one_doctor(patient_ayse, patient_mehmet, doctor_x, clinic_x, day):
    insert(patient_ayse, doctor_x, clinic_x, at(day, 10), minutes=60)

    with pytest.raises(IntegrityError, match="appointment_doctor_no_overlap"):
        insert(patient_mehmet, doctor_x, clinic_x, at(day, 10, 30))


@pytest.mark.postgres
def test_postgres_refuses_overlapping_ranges_of_one_patient(patient_ayse, doctor_x, doctor_y, clinic_x, clinic_y, day):
    insert(patient_ayse, doctor_x, clinic_x, at(day, 10), minutes=60)

    with pytest.raises(IntegrityError, match="appointment_patient_no_overlap"):
        insert(patient_ayse, doctor_y, clinic_y, at(day, 10, 30))


def test_cancelled_appointments_do_not_hold_their_slot(patient_ayse, patient_mehmet, doctor_x, clinic_x, day):
    insert(patient_ayse, doctor_x, clinic_x, at(day, 10), status="cancelled_by_patient")

    insert(patient_mehmet, doctor_x, clinic_x, at(day, 10))

    assert Appointment.objects.count() == 2


def test_adjacent_slots_do_not_conflict(patient_ayse, patient_mehmet, doctor_x, clinic_x, day):
    insert(patient_ayse, doctor_x, clinic_x, at(day, 10))
    insert(patient_mehmet, doctor_x, clinic_x, at(day, 10, 30))

    assert Appointment.objects.count() == 2


def test_a_patient_cannot_book_two_doctors_at_the_same_time(ayse, schedule_x, schedule_y, day):
    from appointments.errors import SlotUnavailable

    book(ayse, schedule_x, at(day, 10))

    with pytest.raises(SlotUnavailable):
        book(ayse, schedule_y, at(day, 10))
