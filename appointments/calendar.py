"""One appointment as an iCalendar (RFC 5545) file, built with the `icalendar` library. Never the
visit reason or exam type.

Calendars replace an event they already hold when the same UID comes with a higher SEQUENCE, so
the UID is the appointment's and SEQUENCE counts the changes since the booking (each reschedule
and each status change writes one history row).
"""

from datetime import UTC

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from appointments.models import Appointment

CANCELLED = {
    Appointment.Status.CANCELLED_BY_PATIENT,
    Appointment.Status.CANCELLED_BY_CLINIC,
    Appointment.Status.RELEASED,
}


def appointment_sequence(appointment: Appointment) -> int:
    """How many times the appointment changed after it was booked."""
    return appointment.history.exclude(from_status="").count()


def _organizer(appointment: Appointment) -> vCalAddress:
    # Clinics have no address of their own: replies go to the platform's sender address.
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(appointment.clinic.name)
    return organizer


def appointment_ics(appointment: Appointment, *, show_meeting_url: bool) -> str:
    clinic = appointment.clinic
    cancelled = appointment.status in CANCELLED
    event = Event()
    event.add("uid", f"{appointment.id}@medplatform")
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("last-modified", appointment.updated_at.astimezone(UTC))
    event.add("sequence", appointment_sequence(appointment))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("summary", f"{appointment.doctor.name} — {clinic.name}")
    event.add("organizer", _organizer(appointment))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not appointment.is_online:
        event.add("location", f"{clinic.address}, {clinic.city}")
    elif show_meeting_url and appointment.meeting_url and not cancelled:
        # An online visit takes place at its link; a cancelled one keeps no link to a room.
        event.add("location", appointment.meeting_url)
        event.add("url", appointment.meeting_url)

    calendar = Calendar()
    calendar.add("prodid", "-//Medplatform//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical().decode()
