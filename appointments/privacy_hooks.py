"""The appointments app's privacy contract (see privacy.contract)."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ClinicMembership, Doctor
from appointments import retention
from appointments.consent import appointment_health_data_withdrawn, steps
from appointments.models import Appointment, UnclearReply
from appointments.selectors import appointment_privacy_summary
from appointments.serializers import in_clinic_zone
from privacy.contract import Contract, PurposeRules, RetentionAction, RetentionRule
from privacy.models import ConsentEvent, Purpose

RETENTION = {
    "appointments.visit_reasons": RetentionRule(
        kind=_("Visit reason and exam type of past appointments"),
        models=("appointments.Appointment",),
        from_event=_("the end of the visit"),
        action=RetentionAction.DESTROY,
        period_setting="VISIT_REASON_RETENTION_DAYS",
        run=retention.expired_visit_reasons,
    ),
    "appointments.past_appointments": RetentionRule(
        kind=_("Appointments: time, doctor, clinic, status and their history"),
        models=("appointments.Appointment", "appointments.AppointmentStatusChange"),
        from_event=_("the end of the visit"),
        action=RetentionAction.DESTROY,
        period_setting="APPOINTMENT_RETENTION_DAYS",
        run=retention.expired_appointments,
    ),
    "appointments.erased_accounts": RetentionRule(
        kind=_("Appointments of erased accounts"),
        models=("appointments.Appointment", "appointments.AppointmentStatusChange"),
        from_event=_("the erasure of the account"),
        action=RetentionAction.ANONYMISE,
        period_days=0,
        run=retention.erased_accounts_appointments,
    ),
    "appointments.idempotency_records": RetentionRule(
        kind=_("Records that stop a repeated booking request from booking twice"),
        models=("appointments.IdempotencyRecord",),
        from_event=_("the booking request"),
        action=RetentionAction.DESTROY,
        period_days=1,
        run=retention.expired_idempotency_records,
    ),
    "appointments.time_off": RetentionRule(
        kind=_("Doctors' time off and its reason"),
        models=("appointments.TimeOff",),
        from_event=_("the end of the time off"),
        action=RetentionAction.DESTROY,
        period_setting="TIME_OFF_RETENTION_DAYS",
        run=retention.expired_time_off,
    ),
    "appointments.unclear_replies": RetentionRule(
        kind=_("Flags telling a clinic that your reply to a confirmation request was unclear (no text is kept)"),
        models=("appointments.UnclearReply",),
        from_event=_("the reply"),
        action=RetentionAction.DESTROY,
        period_setting="CONFIRMATION_REPLY_FLAG_RETENTION_DAYS",
        run=retention.expired_unclear_replies,
    ),
}


def appointment_recipients(user) -> list[dict]:
    """The doctors and the clinics (their admins and receptionists) that received the patient's
    appointments (KVKK Art. 11: they are told after a correction or an erasure)."""
    pairs = set(Appointment.objects.filter(patient=user).values_list("doctor_id", "clinic_id").distinct())
    recipients = []
    doctors = Doctor.objects.filter(pk__in={doctor for doctor, _clinic in pairs}).select_related("user")
    for doctor in sorted(doctors, key=lambda d: str(d.pk)):
        recipients.append({"kind": "doctor", "name": doctor.name, "users": [doctor.user]})
    memberships = (
        ClinicMembership.objects.filter(clinic_id__in={clinic for _doctor, clinic in pairs})
        .select_related("user", "clinic")
        .order_by("clinic_id", "user_id")
    )
    by_clinic: dict = {}
    for membership in memberships:
        by_clinic.setdefault(membership.clinic, []).append(membership.user)
    for clinic, staff in by_clinic.items():
        recipients.append({"kind": "clinic", "name": clinic.name, "users": staff})
    return recipients


def rows_held_for_booking(grant: ConsentEvent) -> int:
    """Bookings ahead, and any visit reason or exam type kept: none may outlive the consent."""
    ahead = Q(status=Appointment.Status.BOOKED, start__gt=timezone.now())
    health = Q(visit_reason__isnull=False) | Q(exam_type__isnull=False)
    others = sum(step.held_rows(grant.subject) for step in steps())
    return Appointment.objects.filter(Q(patient=grant.subject) & (ahead | health)).count() + others


def appointments_export(user) -> dict:
    appointments = (
        Appointment.objects.filter(patient=user)
        .select_related("doctor__user", "clinic")
        .prefetch_related("history")
        .order_by("start", "id")
    )
    return {
        "appointments": [
            {
                "id": str(appointment.id),
                "doctor": str(appointment.doctor_id),
                "doctor_name": appointment.doctor.name,
                "clinic": str(appointment.clinic_id),
                "clinic_name": appointment.clinic.name,
                "start": in_clinic_zone(appointment.start, appointment.clinic.timezone),
                "end": in_clinic_zone(appointment.end, appointment.clinic.timezone),
                "status": appointment.status,
                "visit_type": appointment.visit_type,
                "confirmation_due": in_clinic_zone(appointment.confirmation_due, appointment.clinic.timezone)
                if appointment.confirmation_due
                else None,
                "confirmed_at": in_clinic_zone(appointment.confirmed_at, appointment.clinic.timezone)
                if appointment.confirmed_at
                else None,
                "visit_reason": appointment.visit_reason,
                "exam_type": appointment.exam_type,
                "history": [
                    {
                        "from_status": change.from_status,
                        "to_status": change.to_status,
                        "actor_role": change.actor_role,
                        "reason": change.reason,
                        "at": in_clinic_zone(change.at, appointment.clinic.timezone),
                    }
                    for change in appointment.history.all()
                ],
            }
            for appointment in appointments
        ],
        # replies to a confirmation request that the clinic was asked to call back about (no text)
        "unclear_replies": [
            {
                "appointment": str(reply.appointment_id),
                "channel": reply.channel,
                "at": in_clinic_zone(reply.created_at, reply.clinic.timezone),
            }
            for reply in UnclearReply.objects.filter(sender=user).select_related("clinic").order_by("created_at")
        ],
    }


CONTRACT = Contract(
    app="appointments",
    purposes={
        Purpose.APPOINTMENT_HEALTH_DATA: PurposeRules(
            on_withdraw=appointment_health_data_withdrawn, held_rows=rows_held_for_booking
        ),
    },
    retention=RETENTION,
    summary=appointment_privacy_summary,
    recipients=appointment_recipients,
    export=appointments_export,
)
