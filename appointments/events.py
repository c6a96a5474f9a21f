"""The one place where an appointment change is announced to the rest of the platform.

Every service that changes an appointment's status (or moves it) writes an
AppointmentStatusChange row and then calls `appointment_changed` inside the same transaction.
It writes the patient's notification outbox rows (notifications.services.notification_enqueue),
which are handed to Celery after the commit, and tells the no-show policy
(standing.services.standing_appointment_changed: a no-show is a strike). Only display values go along (clinic and doctor
names, start, time zone, ids), never the visit reason or exam type.

It is also where bookable time that frees up is announced (`time_freed`): a booking leaving the
booked status (any cancellation, a release, whatever status comes next) or moving away from its
time, time off removed, and working hours added, widened or freed of a break (`hours_opened`).
Listeners (the waitlist, which hands the freed slots to the first patients in line) register with
`on_time_freed` and run inside the same transaction, before the availability index is refreshed,
so a slot they hold never shows as free.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from appointments.models import Appointment, AppointmentStatusChange

# fn(*, doctor_id, spans): spans is a list of (start, end), or None for "anywhere" (new hours)
TimeFreedListener = Callable[..., None]
_time_freed_listeners: list[TimeFreedListener] = []


def on_time_freed(listener: TimeFreedListener) -> TimeFreedListener:
    """Register a listener once (from an AppConfig.ready())."""
    if listener not in _time_freed_listeners:
        _time_freed_listeners.append(listener)
    return listener


def time_freed(*, doctor_id, spans: Iterable[tuple[datetime, datetime]] | None) -> None:
    """Announce, inside the writer's transaction, that the doctor's time in `spans` (None: anywhere)
    may have become bookable."""
    spans = None if spans is None else list(spans)
    for listener in _time_freed_listeners:
        listener(doctor_id=doctor_id, spans=spans)


# fn(*, doctor_id, spans): time the doctor no longer works (new time off) in a list of (start, end)
TimeTakenListener = Callable[..., None]
_time_taken_listeners: list[TimeTakenListener] = []


def on_time_taken(listener: TimeTakenListener) -> TimeTakenListener:
    """Register a listener once (from an AppConfig.ready())."""
    if listener not in _time_taken_listeners:
        _time_taken_listeners.append(listener)
    return listener


def time_taken(*, doctor_id, spans: Iterable[tuple[datetime, datetime]]) -> None:
    """Announce, inside the writer's transaction, that the doctor does not work in `spans` any
    more (time off recorded): time held there for someone (a waitlist offer) cannot be booked."""
    spans = list(spans)
    for listener in _time_taken_listeners:
        listener(doctor_id=doctor_id, spans=spans)


def hours_opened(*, doctor_id) -> None:
    """Working hours added or changed, or a break removed: any of the doctor's time may be new."""
    time_freed(doctor_id=doctor_id, spans=None)


def _freed_span(appointment: Appointment, change: AppointmentStatusChange) -> tuple[datetime, datetime] | None:
    if change.from_status == Appointment.Status.BOOKED and change.to_status != Appointment.Status.BOOKED:
        return appointment.start, appointment.end
    if change.to_status == Appointment.Status.BOOKED and change.previous_start is not None:
        return change.previous_start, change.previous_start + (appointment.end - appointment.start)
    return None


CANCELLED = {
    Appointment.Status.CANCELLED_BY_CLINIC: "appointment_cancelled_by_clinic",
    Appointment.Status.CANCELLED_BY_PATIENT: "appointment_cancelled_by_patient",
}


def _notification_for(appointment: Appointment, change: AppointmentStatusChange) -> tuple[str, str] | None:
    """(kind, event key): the key makes a replayed event unable to send a second message."""
    if change.to_status == Appointment.Status.BOOKED and not change.from_status:
        return "appointment_booked", f"appointment_booked:{appointment.id}"
    if change.to_status == Appointment.Status.BOOKED and change.previous_start is not None:
        return "appointment_rescheduled", f"appointment_rescheduled:{appointment.id}:{change.id}"
    if change.to_status in CANCELLED:
        return CANCELLED[change.to_status], f"appointment_cancelled:{appointment.id}"
    if change.to_status == Appointment.Status.RELEASED:
        return "appointment_released", f"appointment_released:{appointment.id}"
    if change.to_status == Appointment.Status.COMPLETED:
        return "review_invitation", f"review_invitation:{appointment.id}"
    return None


def appointment_changed(appointment: Appointment, change: AppointmentStatusChange) -> None:
    """Announce a recorded change: write the notification rows in this transaction (the
    patient's; and the doctor's when the patient cancels, by hand or by withdrawing consent), and
    let the no-show policy count or uncount a no-show."""
    from notifications.services import notification_enqueue
    from standing.services import standing_appointment_changed

    standing_appointment_changed(appointment, change)
    freed = _freed_span(appointment, change)
    if freed is not None:
        time_freed(doctor_id=appointment.doctor_id, spans=[freed])
    notification = _notification_for(appointment, change)
    if notification is None:
        return
    kind, event_key = notification
    doctor = appointment.doctor
    context = {
        "clinic_name": appointment.clinic.name,
        "doctor_name": f"{doctor.title} {doctor.user.full_name}".strip(),
        "start": appointment.start.isoformat(),
        "timezone": appointment.clinic.timezone,
        "appointment_id": str(appointment.id),
    }
    notification_enqueue(recipient=appointment.patient, kind=kind, event_key=event_key, context=context)
    if change.to_status == Appointment.Status.CANCELLED_BY_PATIENT:
        # The doctor's notice names no patient: the message leaves through a provider.
        notification_enqueue(
            recipient=doctor.user,
            kind="appointment_cancelled_for_doctor",
            event_key=f"appointment_cancelled_for_doctor:{appointment.id}",
            context=context,
        )
