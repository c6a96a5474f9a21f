"""Who is exempt from the release of unconfirmed visits and from no-show strikes.

Patients aged 65 or more on the day in question, and patients a clinic has marked as exempt
(accounts.models.ClinicExemption: for example in cancer care), at that clinic. `is_exempt` is the
one question every part of the platform asks (the confirmation release, the no-show strikes);
nobody re-derives it. Clinic staff (and platform admins) keep the marks through the functions
below; each mark and removal is audited for the patient.
"""

from datetime import date
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.birth_dates import age_on
from accounts.models import Clinic, ClinicExemption, User
from accounts.permissions import can_manage_exemptions
from medplatform.errors import NotFound
from privacy.context import SYSTEM, ActContext
from privacy.services import audit_record

EXEMPT_FROM_AGE = 65


def _clinic_today(clinic: Clinic) -> date:
    return timezone.localdate(timezone=ZoneInfo(clinic.timezone))


def is_exempt(patient: User, clinic: Clinic, *, on: date | None = None) -> bool:
    """Is `patient` exempt at `clinic` on the day `on` (the clinic's today by default): aged 65 or
    more that day, or marked exempt by the clinic."""
    day = on or _clinic_today(clinic)
    if patient.birth_date is not None and age_on(patient.birth_date, day) >= EXEMPT_FROM_AGE:
        return True
    return ClinicExemption.objects.filter(clinic_id=clinic.pk, patient_id=patient.pk).exists()


def exemption_list(*, viewer: User, clinic: Clinic) -> QuerySet[ClinicExemption]:
    """The clinic's marked patients, newest first; another clinic's list is not_found."""
    if not can_manage_exemptions(viewer, clinic):
        raise NotFound()
    return (
        ClinicExemption.objects.filter(clinic=clinic).select_related("clinic", "patient").order_by("-created_at", "id")
    )


def _patient_of_clinic(clinic: Clinic, patient_id) -> User:
    """A patient who has (or had) an appointment at the clinic; anyone else is not_found, so that
    staff cannot learn who else has an account."""
    patient = User.objects.filter(pk=patient_id, role=User.Role.PATIENT, erased_at__isnull=True).first()
    if patient is None or not clinic.appointments.filter(patient_id=patient.pk).exists():
        raise NotFound()
    return patient


def exemption_mark(
    *, actor: User, clinic: Clinic, patient_id, reason: str, context: ActContext = SYSTEM
) -> ClinicExemption:
    """Mark a patient of the clinic as exempt (again: the reason is updated). Audited."""
    if not can_manage_exemptions(actor, clinic):
        raise NotFound()
    patient = _patient_of_clinic(clinic, patient_id)
    with transaction.atomic():
        try:
            with transaction.atomic():
                exemption, created = ClinicExemption.objects.select_for_update().get_or_create(
                    clinic=clinic, patient=patient, defaults={"reason": reason, "marked_by": actor}
                )
        except IntegrityError:  # marked concurrently by someone else: update theirs
            exemption, created = ClinicExemption.objects.select_for_update().get(clinic=clinic, patient=patient), False
        if not created:
            exemption.reason, exemption.marked_by = reason, actor
            exemption.save(update_fields=["reason", "marked_by", "updated_at"])
        audit_record(
            actor=actor,
            action="exemption_marked",
            patient=patient,
            metadata={"clinic": str(clinic.pk), "exemption": str(exemption.pk), "reason": reason},
            context=context,
        )
    return exemption


def exemption_remove(*, actor: User, clinic: Clinic, exemption_id, context: ActContext = SYSTEM) -> None:
    """Remove a mark: the patient's visits follow the clinic's rules again (unless aged 65+)."""
    with transaction.atomic():
        exemption = (
            exemption_list(viewer=actor, clinic=clinic).select_for_update(of=("self",)).filter(pk=exemption_id).first()
        )
        if exemption is None:
            raise NotFound()
        exemption.delete()
        audit_record(
            actor=actor,
            action="exemption_removed",
            patient=exemption.patient,
            metadata={"clinic": str(clinic.pk), "exemption": str(exemption_id)},
            context=context,
        )


def exemptions_erase(user: User) -> int:
    """An erased account keeps no exemption (and no birth date)."""
    deleted, _by_model = ClinicExemption.objects.filter(patient=user).delete()
    if user.birth_date is not None:
        user.birth_date = None
        user.save(update_fields=["birth_date", "updated_at"])
    return deleted
