"""One appointment as an iCalendar (RFC 5545) file. Never the visit reason or exam type."""

from datetime import UTC

from appointments.models import Appointment


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(instant) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment: Appointment, *, show_meeting_url: bool) -> str:
    clinic = appointment.clinic
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Medplatform//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{appointment.id}@medplatform",
        f"DTSTAMP:{_stamp(appointment.updated_at)}",
        f"DTSTART:{_stamp(appointment.start)}",
        f"DTEND:{_stamp(appointment.end)}",
        f"SUMMARY:{_escape(f'{appointment.doctor.name} — {clinic.name}')}",
        f"LOCATION:{_escape(f'{clinic.address}, {clinic.city}')}",
        f"STATUS:{'CONFIRMED' if appointment.status == Appointment.Status.BOOKED else 'CANCELLED'}",
    ]
    if show_meeting_url and appointment.meeting_url:
        lines.append(f"URL:{appointment.meeting_url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
