import uuid
from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import Clinic, Doctor, Specialty


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.all()


def clinic_list() -> QuerySet[Clinic]:
    return Clinic.objects.all()


def doctor_list(
    *,
    specialty: str | None = None,
    city: str | None = None,
    clinic: str | None = None,
    q: str | None = None,
    available_on: date | None = None,
) -> QuerySet[Doctor]:
    """Active doctors matching the public search filters, with what the list shows prefetched."""
    doctors = Doctor.objects.filter(is_active=True).select_related("user", "specialty").prefetch_related("clinics")
    if specialty:
        doctors = doctors.filter(Q(specialty__slug=specialty) | Q(specialty__id=_uuid_or_none(specialty)))
    if city:
        doctors = doctors.filter(clinics__city__iexact=city)
    if clinic:
        doctors = doctors.filter(clinics__id=_uuid_or_none(clinic))
    if q:
        for word in q.split()[:5]:
            doctors = doctors.filter(
                Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
                | Q(specialty__name_tr__icontains=word)
                | Q(specialty__name_en__icontains=word)
                | Q(clinics__name__icontains=word)
            )
    doctors = doctors.distinct()
    if available_on:
        # Slots are computed, not stored: the appointments app checks the matching doctors'
        # schedules in a fixed number of queries and we keep those with a free slot that day.
        from appointments.selectors import doctors_available_on

        doctors = doctors.filter(id__in=doctors_available_on(doctors=doctors, day=available_on))
    return doctors


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
