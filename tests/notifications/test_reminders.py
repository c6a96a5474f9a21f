"""Reminders from the beat task: at the right time, once, none for cancelled, right after a reschedule."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from notifications.models import Kind, Notification
from notifications.services import ReminderDue, preferences_update, reminders_create_due

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 12, 6, 30, tzinfo=UTC)
DAY, TWO_HOURS = timedelta(hours=24), timedelta(hours=2)


@pytest.fixture
def patient(patient_ayse):
    preferences_update(user=patient_ayse, email=False)
    return patient_ayse


def due(patient, appointment_id, start=START, **extra):
    return [
        ReminderDue(
            appointment_id=appointment_id,
            recipient_id=patient.pk,
            start=start,
            clinic_name="Klinik X",
            timezone="Europe/Istanbul",
            lead=lead,
            **extra,
        )
        for lead in (DAY, TWO_HOURS)
    ]


def reminder_leads():
    return sorted(row.context["lead_minutes"] for row in Notification.objects.filter(kind=Kind.APPOINTMENT_REMINDER))


def test_reminders_are_created_once_each_at_their_time(fake_twilio, patient, django_capture_on_commit_callbacks):
    appointment = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for now in [START - DAY - timedelta(minutes=1), START - DAY, START - DAY + timedelta(minutes=1)]:
            reminders_create_due(now=now, due=due(patient, appointment))
        assert reminder_leads() == ["1440"]
        for now in [START - TWO_HOURS, START - timedelta(minutes=30), START]:
            reminders_create_due(now=now, due=due(patient, appointment))

    assert reminder_leads() == ["120", "1440"]
    assert len(fake_twilio.messages) == 2
    print(f"reminders: {len(fake_twilio.messages)} sent for leads 24 h and 2 h over 6 beat runs")


def test_a_cancelled_appointment_gets_no_reminder(patient):
    # The selection in appointments/reminders.py leaves cancelled appointments out: nothing due.
    assert reminders_create_due(now=START - TWO_HOURS, due=[]) == []
    assert Notification.objects.count() == 0


def test_a_reschedule_after_the_reminder_gets_a_new_correct_one(
    fake_twilio, patient, django_capture_on_commit_callbacks
):
    appointment = uuid.uuid4()
    new_start = START + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_create_due(now=START - DAY, due=due(patient, appointment))
        # rescheduled at START - 20 h to two days later
        rescheduled_at = START - timedelta(hours=20)
        for now in [rescheduled_at, new_start - DAY, new_start - DAY + timedelta(minutes=5)]:
            reminders_create_due(now=now, due=due(patient, appointment, start=new_start, booked_at=rescheduled_at))

    bodies = [message.body for message in fake_twilio.messages]
    assert len(bodies) == 2
    assert "12.03.2030 09:30" in bodies[0] and "14.03.2030 09:30" in bodies[1]


def test_a_lead_that_had_passed_at_booking_is_skipped(patient):
    booked_at = START - timedelta(hours=5)

    reminders_create_due(now=booked_at + timedelta(minutes=1), due=due(patient, uuid.uuid4(), booked_at=booked_at))
    assert reminder_leads() == []
    reminders_create_due(now=START - TWO_HOURS, due=due(patient, uuid.uuid4(), booked_at=booked_at))
    assert reminder_leads() == ["120"]


def test_when_beat_was_down_only_the_nearest_due_lead_is_sent(patient):
    reminders_create_due(now=START - timedelta(hours=1), due=due(patient, uuid.uuid4()))

    assert reminder_leads() == ["120"]


def test_the_beat_task_writes_the_due_reminders_of_booked_appointments(patient, doctor_x, clinic_x):
    from appointments.demo import create_demo_schedule
    from appointments.tasks import send_due_reminders
    from tests.appointments.conftest import at, book, grant_booking_consent, working_day

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient)
    appointment = book(patient, doctor_x, at(working_day(), 10))

    with freeze_time(appointment.start - timedelta(hours=23)):
        written = send_due_reminders()
        again = send_due_reminders()

    assert written >= 1
    assert again == 0
    assert Notification.objects.filter(kind=Kind.APPOINTMENT_REMINDER, appointment_id=appointment.id).exists()


def test_a_beat_run_over_reminders_already_written_costs_one_query(patient, django_assert_num_queries):
    appointments = [uuid.uuid4() for _ in range(5)]
    items = [item for appointment in appointments for item in due(patient, appointment)]
    reminders_create_due(now=START - DAY, due=items)

    # 1 query: which of these reminder keys are already in the outbox (all of them)
    with django_assert_num_queries(1):
        assert reminders_create_due(now=START - DAY + timedelta(minutes=1), due=items) == []
