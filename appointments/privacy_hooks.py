"""The appointments app's privacy contract (see privacy.contract)."""

from django.db.models import Q
from django.utils import timezone

from appointments.consent import appointment_health_data_withdrawn
from appointments.models import Appointment
from appointments.retention import expired_idempotency_records
from appointments.selectors import appointment_privacy_summary
from appointments.serializers import in_clinic_zone
from privacy.contract import Contract, PurposeRules
from privacy.models import ConsentEvent, Purpose


def rows_held_for_booking(grant: ConsentEvent) -> int:
    """Bookings ahead, and any visit reason or exam type kept: none may outlive the consent."""
    ahead = Q(status=Appointment.Status.BOOKED, start__gt=timezone.now())
    health = Q(visit_reason__isnull=False) | Q(exam_type__isnull=False)
    return Appointment.objects.filter(Q(patient=grant.subject) & (ahead | health)).count()


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
        ]
    }


CONTRACT = Contract(
    app="appointments",
    purposes={
        Purpose.APPOINTMENT_HEALTH_DATA: PurposeRules(
            on_withdraw=appointment_health_data_withdrawn, held_rows=rows_held_for_booking
        ),
    },
    retention={"appointments.idempotency_records": expired_idempotency_records},
    summary=appointment_privacy_summary,
    export=appointments_export,
)
