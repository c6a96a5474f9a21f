"""The one place where an appointment change is announced to the rest of the platform.

Every service that changes an appointment's status (or moves it) writes an
AppointmentStatusChange row and then calls `appointment_changed` inside the same transaction.
It writes the patient's notification outbox rows (notifications.services.notification_enqueue),
which are handed to Celery after the commit, and tells the no-show policy
(standing.services.standing_appointment_changed: a no-show is a strike). Only display values go along (clinic and doctor
names, start, time zone, ids), never the visit reason or exam type.
"""

from appointments.models import Appointment, AppointmentStatusChange

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
