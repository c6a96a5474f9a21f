import uuid
from datetime import UTC, date, datetime

from django.db.models import Case, F, FloatField, Q, QuerySet, When
from django.db.models.functions import Cast

from accounts.models import Clinic, ClinicMembership, Doctor, Specialty, User
from medplatform.search_keys import search_key

# `ordering` of doctor search; next_available is computed, not stored (see doctor_ids_by_next_available).
DOCTOR_ORDERINGS = ("rating", "next_available", "name")


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.all()


def staff_clinic_list(*, viewer: User) -> QuerySet[Clinic]:
    """The clinics a clinic staff member works for (none for anyone else)."""
    if not (viewer.is_authenticated and viewer.is_clinic_staff):
        return Clinic.objects.none()
    return Clinic.objects.filter(id__in=ClinicMembership.objects.filter(user=viewer).values("clinic_id")).order_by(
        "name", "id"
    )


def staff_doctor_list(*, viewer: User) -> QuerySet[Doctor]:
    """The doctors of the clinics a staff member works for, each once."""
    return (
        Doctor.objects.filter(clinics__in=staff_clinic_list(viewer=viewer))
        .distinct()
        .select_related("user", "specialty")
        .order_by("user__last_name", "user__first_name", "id")
    )


def clinic_list() -> QuerySet[Clinic]:
    return Clinic.objects.all()


def doctor_list(
    *,
    specialty: str | None = None,
    city: str | None = None,
    clinic: str | None = None,
    q: str | None = None,
    available_on: date | None = None,
    ordering: str | None = None,
) -> QuerySet[Doctor]:
    """Active doctors matching the public search filters, with what the list shows prefetched.

    Text filters compare search keys (medplatform.search_keys), stored on write: case, Turkish
    dotted/dotless i and accents do not matter. `ordering` is `rating` or `name` here; for
    `next_available` the caller orders the ids with doctor_ids_by_next_available."""
    doctors = Doctor.objects.filter(is_active=True).select_related("user", "specialty").prefetch_related("clinics")
    if specialty:
        key = search_key(specialty)
        doctors = doctors.filter(
            Q(specialty__slug=specialty.strip().lower())
            | Q(specialty__name_tr_key=key)
            | Q(specialty__name_en_key=key)
            | Q(specialty__id=_uuid_or_none(specialty))
        )
    if city:
        doctors = doctors.filter(clinics__city_key=search_key(city))
    if clinic:
        doctors = doctors.filter(clinics__id=_uuid_or_none(clinic))
    if q:
        for word in search_key(q).split()[:5]:
            doctors = doctors.filter(
                Q(user__name_key__contains=word)
                | Q(specialty__name_tr_key__contains=word)
                | Q(specialty__name_en_key__contains=word)
                | Q(clinics__name_key__contains=word)
            )
    doctors = doctors.distinct()
    if ordering == "rating":
        rating = Case(
            When(rating_count__gt=0, then=Cast("rating_sum", FloatField()) / Cast("rating_count", FloatField())),
            default=None,
            output_field=FloatField(),
        )
        doctors = doctors.annotate(rating_value=rating).order_by(
            F("rating_value").desc(nulls_last=True), "-rating_count", "user__name_key", "id"
        )
    elif ordering == "name":
        doctors = doctors.order_by("user__name_key", "id")
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


def doctor_ids_by_next_available(*, doctors: QuerySet[Doctor]) -> tuple[list, dict]:
    """The ids of `doctors`, soonest free slot first (those without one last, by name), and the
    {id: next_available} it was sorted by. next_available is computed from the schedules, not
    stored, so every matching doctor's is computed (a fixed number of queries) before a page is cut."""
    from appointments.selectors import next_available_for

    ids = list(doctors.order_by("user__name_key", "id").values_list("id", flat=True))
    soonest = next_available_for(doctor_ids=ids)
    never = datetime.max.replace(tzinfo=UTC)
    ids.sort(key=lambda doctor_id: soonest.get(doctor_id) or never)
    return ids, soonest


def doctors_in_order(*, ids: list) -> list[Doctor]:
    """The doctors with these ids, in this order, with what the list shows prefetched."""
    by_id = {
        doctor.id: doctor
        for doctor in Doctor.objects.filter(id__in=ids).select_related("user", "specialty").prefetch_related("clinics")
    }
    return [by_id[doctor_id] for doctor_id in ids if doctor_id in by_id]
