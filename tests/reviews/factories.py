"""Completed appointments made straight with the ORM: reviews only need one to exist."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Doctor, User
from appointments.models import Appointment
from privacy.models import ConsentEvent, Purpose
from privacy.services import consent_grant, current_version


def past_appointment(
    *,
    patient: User,
    doctor: Doctor,
    ended_ago: timedelta = timedelta(days=1),
    status: str = Appointment.Status.COMPLETED,
) -> Appointment:
    end = timezone.now() - ended_ago
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        clinic=doctor.clinics.first(),
        start=end - timedelta(minutes=30),
        end=end,
        status=status,
    )


def grant_review_publication(patient: User) -> ConsentEvent:
    return consent_grant(
        subject=patient,
        purpose=Purpose.REVIEW_PUBLICATION,
        text_version=current_version(Purpose.REVIEW_PUBLICATION),
        language="tr",
    )
