"""The one place where an appointment change is announced to the rest of the platform.

Every service that changes an appointment's status (or moves it) writes an
AppointmentStatusChange row and then calls `appointment_changed` inside the same transaction.
Today that is all: the history row is the record of the event. The notifications app will hook
in here (enqueue with `transaction.on_commit`, passing ids only, never the visit reason), so
that booking, cancellation by the patient or the clinic, reschedules, time-off cancellations and
consent-withdrawal cancellations all reach the patient and the clinic through one call.
"""

from appointments.models import Appointment, AppointmentStatusChange


def appointment_changed(appointment: Appointment, change: AppointmentStatusChange) -> None:
    """Announce a recorded change; a no-op until the notifications outbox exists."""
    return None
