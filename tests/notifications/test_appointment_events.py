"""Appointment changes reach the patient through appointments/events.py, and reminders through
appointments/reminders.py: real booking services, the fake Twilio, an injected clock."""

from datetime import datetime, timedelta

import pytest
from django.core import mail

from appointments.demo import create_demo_schedule
from appointments.models import Appointment
from appointments.reminders import reminders_due
from appointments.services import (
    appointment_cancel,
    appointment_complete,
    appointment_reschedule,
)
from notifications.models import Kind, Notification
from notifications.services import preferences_update, reminders_create_due
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.health_profiles.scenario import PLAINTEXTS, full_profile

pytestmark = pytest.mark.django_db

LEADS = [timedelta(hours=24), timedelta(hours=2)]


@pytest.fixture
def ayse(patient_ayse):
    grant_booking_consent(patient_ayse)
    preferences_update(user=patient_ayse, email=False)
    return patient_ayse


@pytest.fixture
def doctor(doctor_x, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    return doctor_x


def kinds():
    return list(Notification.objects.order_by("created_at").values_list("kind", flat=True))


def test_a_booking_sends_one_confirmation_without_the_visit_reason(
    fake_twilio, ayse, doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(ayse, doctor, at(working_day(), 10), visit_reason="Göğüs ağrısı", exam_type="EKG")

    [message] = fake_twilio.messages
    assert kinds() == [Kind.APPOINTMENT_BOOKED]
    assert "Klinik X" in message.body and at(working_day(), 10).strftime("%d.%m.%Y 10:00") in message.body
    assert "Göğüs" not in message.body and "EKG" not in message.body
    assert Notification.objects.get().appointment_id == appointment.id


def test_a_clinic_cancellation_sends_the_patient_one_notice(
    fake_twilio, ayse, doctor, clinic_admin_x, django_capture_on_commit_callbacks
):
    appointment = book(ayse, doctor, at(working_day(), 10))

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, actor=clinic_admin_x, reason="Doktor hasta")

    assert kinds() == [Kind.APPOINTMENT_BOOKED, Kind.APPOINTMENT_CANCELLED_BY_CLINIC]
    [message] = fake_twilio.messages
    assert "iptal etti" in message.body and "Doktor hasta" not in message.body


def test_a_patient_cancellation_sends_a_confirmation_and_tells_the_doctor_without_naming_the_patient(
    fake_twilio, ayse, doctor, django_capture_on_commit_callbacks
):
    appointment = book(ayse, doctor, at(working_day(), 10))

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, actor=ayse)

    assert Notification.objects.filter(recipient=ayse).count() == 2  # booked, cancelled (sms; e-mail is off)
    assert set(kinds()) == {
        Kind.APPOINTMENT_BOOKED,
        Kind.APPOINTMENT_CANCELLED_BY_PATIENT,
        Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR,
    }
    assert {n.recipient for n in Notification.objects.filter(kind=Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR)} == {
        doctor.user
    }
    [to_doctor] = [m for m in fake_twilio.messages if m.to == str(doctor.user.phone)]
    assert "Klinik X" in to_doctor.body
    assert ayse.first_name not in to_doctor.body and ayse.last_name not in to_doctor.body


def test_withdrawing_the_booking_consent_tells_the_doctor_of_each_cancelled_visit(fake_twilio, ayse, doctor):
    from privacy.models import Purpose
    from privacy.services import consent_active_grants, consent_withdraw

    book(ayse, doctor, at(working_day(), 10))
    book(ayse, doctor, at(working_day(days_ahead=14), 11))
    grant = consent_active_grants(subject=ayse, purpose=Purpose.APPOINTMENT_HEALTH_DATA).get()

    consent_withdraw(subject=ayse, grant_id=grant.id)

    notices = Notification.objects.filter(kind=Kind.APPOINTMENT_CANCELLED_FOR_DOCTOR, recipient=doctor.user)
    assert notices.values("appointment_id").distinct().count() == 2


def test_each_reschedule_sends_a_notice(fake_twilio, ayse, doctor):
    day = working_day()
    appointment = book(ayse, doctor, at(day, 10))

    appointment_reschedule(appointment=appointment, actor=ayse, start=at(day, 11))
    appointment_reschedule(appointment=appointment, actor=ayse, start=at(day, 10))

    assert kinds() == [Kind.APPOINTMENT_BOOKED] + [Kind.APPOINTMENT_RESCHEDULED] * 2


def test_a_completed_visit_sends_a_review_invitation(fake_twilio, ayse, doctor):
    appointment = book(ayse, doctor, at(working_day(), 10))
    Appointment.objects.filter(pk=appointment.pk).update(
        start=appointment.start - timedelta(days=30), end=appointment.end - timedelta(days=30)
    )
    appointment.refresh_from_db()

    appointment_complete(appointment=appointment, actor=doctor.user)

    assert kinds()[-1] == Kind.REVIEW_INVITATION


def test_reminders_are_selected_at_their_time_once_and_never_for_a_cancelled_appointment(
    fake_twilio, ayse, patient_mehmet, doctor, django_capture_on_commit_callbacks
):
    grant_booking_consent(patient_mehmet)
    day = working_day()
    kept = book(ayse, doctor, at(day, 10))
    cancelled = book(patient_mehmet, doctor, at(day, 11))
    appointment_cancel(appointment=cancelled, actor=patient_mehmet)
    start = kept.start

    with django_capture_on_commit_callbacks(execute=True):
        for now in [
            start - timedelta(hours=25),
            start - timedelta(hours=24),
            start - timedelta(hours=23),
            start - timedelta(hours=2),
            start - timedelta(minutes=1),
        ]:
            reminders_create_due(now=now, due=reminders_due(now=now, leads=LEADS))

    reminders = Notification.objects.filter(kind=Kind.APPOINTMENT_REMINDER)
    assert sorted(r.context["lead_minutes"] for r in reminders) == ["120", "1440"]
    assert {r.recipient_id for r in reminders} == {ayse.pk}
    assert len([m for m in fake_twilio.messages if m.body.startswith("Hatırlatma")]) == 2


def test_a_reschedule_after_the_reminder_gets_a_reminder_for_the_new_time(
    fake_twilio, ayse, doctor, django_capture_on_commit_callbacks
):
    day = working_day()
    appointment = book(ayse, doctor, at(day, 10))
    first_due = appointment.start - timedelta(hours=24)
    reminders_create_due(now=first_due, due=reminders_due(now=first_due, leads=LEADS))

    new_start = at(working_day(14), 10)
    appointment_reschedule(appointment=appointment, actor=ayse, start=new_start)
    second_due = new_start - timedelta(hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        for now in [first_due + timedelta(hours=1), second_due, second_due + timedelta(minutes=5)]:
            reminders_create_due(now=now, due=reminders_due(now=now, leads=LEADS))

    reminder_starts = sorted(
        datetime.fromisoformat(r.context["start"]) for r in Notification.objects.filter(kind=Kind.APPOINTMENT_REMINDER)
    )
    assert reminder_starts == [appointment.start, new_start]
    assert new_start.strftime("%d.%m.%Y 10:00") in fake_twilio.messages[-1].body


def test_a_full_scenario_puts_no_visit_reason_exam_type_or_health_entry_in_any_message(
    fake_twilio, ayse, patient_mehmet, doctor, clinic_admin_x, django_capture_on_commit_callbacks
):
    # given: patients with health profiles and appointments that carry visit reasons
    grant_booking_consent(patient_mehmet)
    preferences_update(user=patient_mehmet, whatsapp=True)
    full_profile(ayse)
    reasons = ["Göğüs-ağrısı-ZQX", "Depresyon-kontrolü-ZQX", "HIV-testi-ZQX"]
    exam_types = ["EKG-ZQX", "MR-ZQX", "Kan-tahlili-ZQX"]
    day = working_day()

    # when: booking, reschedule, clinic and patient cancellation, reminders
    with django_capture_on_commit_callbacks(execute=True):
        first = book(ayse, doctor, at(day, 10), visit_reason=reasons[0], exam_type=exam_types[0])
        second = book(patient_mehmet, doctor, at(day, 11), visit_reason=reasons[1], exam_type=exam_types[1])
        third = book(ayse, doctor, at(working_day(14), 14), visit_reason=reasons[2], exam_type=exam_types[2])
        appointment_reschedule(appointment=first, actor=ayse, start=at(day, 9))
        appointment_cancel(appointment=second, actor=clinic_admin_x, reason="Acil ameliyat")
        appointment_cancel(appointment=third, actor=ayse)
        first.refresh_from_db()
        for now in [first.start - timedelta(hours=24), first.start - timedelta(hours=2)]:
            reminders_create_due(now=now, due=reminders_due(now=now, leads=LEADS))

    # then
    bodies = fake_twilio.bodies() + [m.body for m in mail.outbox] + [m.subject for m in mail.outbox]
    print(f"\nscenario: {len(bodies)} bodies searched for {len(reasons + exam_types + PLAINTEXTS)} health strings")
    assert len(fake_twilio.messages) >= 8
    for body in bodies:
        for health_text in reasons + exam_types + PLAINTEXTS + ["Acil ameliyat"]:
            assert health_text not in body
