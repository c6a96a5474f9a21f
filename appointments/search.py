"""Doctor search: the public filters, `available_on` and `next_available`, read from the
availability index (appointments/availability_index.py), so that no request computes slots.

It lives here, beside schedules and the index, so that accounts (identity) imports nothing of
appointments. Minimum notice and horizon depend on the clock and are applied here, per clinic,
in SQL: a row has a bookable slot when it has free slots, its last one is no earlier than now +
the clinic's notice and its first no later than now + the clinic's horizon.
"""

import bisect
import uuid
from datetime import UTC, date, datetime

from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    JSONField,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Clinic, Doctor
from appointments.availability import zone
from appointments.models import DayAvailability
from medplatform.search_keys import search_key

# `ordering` of doctor search.
DOCTOR_ORDERINGS = ("rating", "next_available", "name")
# What the list and the profile show (accounts.serializers.DoctorListOutput, DoctorDetailOutput):
# the user row's other columns (contact data, hashes, encrypted fields) are not read.
DOCTOR_COLUMNS = (
    "id",
    "title",
    "registration_number",
    "education",
    "bio",
    "photo",
    "is_active",
    "rating_sum",
    "rating_count",
    "user__id",
    "user__first_name",
    "user__last_name",
    "specialty__id",
    "specialty__slug",
    "specialty__name_tr",
    "specialty__name_en",
)
CLINIC_COLUMNS = ("id", "name", "city", "timezone")


class Span(Func):
    """An integer column counted in minutes or days, as a duration SQL can add to a timestamp
    (PostgreSQL: an interval; SQLite: Django's microseconds)."""

    output_field = DurationField()
    MICROSECONDS = {"mins": 60_000_000, "days": 86_400_000_000}

    def __init__(self, field: str, *, unit: str):
        super().__init__(F(field))
        self.unit = unit

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} * {self.MICROSECONDS[self.unit]})", params

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"make_interval({self.unit} => {sql})", params


def _after(now: datetime, field: str, unit: str) -> ExpressionWrapper:
    """now + the clinic's `field` (a count of `unit`s), in SQL."""
    return ExpressionWrapper(Value(now) + Span(field, unit=unit), output_field=DateTimeField())


def _not_before(now: datetime) -> ExpressionWrapper:
    return _after(now, "clinic__min_notice_minutes", "mins")


def _bookable_days(now: datetime) -> QuerySet[DayAvailability]:
    """Index rows holding at least one slot bookable at `now` (see the module docstring)."""
    return DayAvailability.objects.filter(
        free_slots__gt=0,
        last_free__gte=_not_before(now),
        first_free__lte=_after(now, "clinic__horizon_days", "days"),
    ).order_by()


def _shown(doctors: QuerySet[Doctor]) -> QuerySet[Doctor]:
    """With what the list and the profile show, and only that, loaded."""
    return (
        doctors.select_related("user", "specialty")
        .only(*DOCTOR_COLUMNS)
        .prefetch_related(Prefetch("clinics", queryset=Clinic.objects.only(*CLINIC_COLUMNS)))
    )


def doctor_list(
    *,
    specialty: str | None = None,
    city: str | None = None,
    clinic: str | None = None,
    q: str | None = None,
    available_on: date | None = None,
    ordering: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Doctor]:
    """Active doctors matching the public search filters, with what the list shows prefetched.

    Text filters compare search keys (medplatform.search_keys), stored on write: case, Turkish
    dotted/dotless i and accents do not matter. `available_on` keeps doctors with a bookable slot
    that local day (a subquery on the index, no extra query). `ordering` is `rating` or `name`
    here; for `next_available` the caller orders the ids with doctor_ids_by_next_available."""
    doctors = _shown(Doctor.objects.filter(is_active=True))
    if specialty:
        key = search_key(specialty)
        doctors = doctors.filter(
            Q(specialty__slug=specialty.strip().lower())
            | Q(specialty__name_tr_key=key)
            | Q(specialty__name_en_key=key)
            | Q(specialty__id=_uuid_or_none(specialty))
        )
    # Clinic conditions are subqueries rather than joins: a doctor at two matching clinics stays
    # one row, so neither the page nor its count needs DISTINCT over every selected column.
    if city:
        doctors = doctors.filter(id__in=_at_clinics(city_key=search_key(city)))
    if clinic:
        doctors = doctors.filter(id__in=_at_clinics(id=_uuid_or_none(clinic)))
    if q:
        for word in search_key(q).split()[:5]:
            doctors = doctors.filter(
                Q(user__name_key__contains=word)
                | Q(specialty__name_tr_key__contains=word)
                | Q(specialty__name_en_key__contains=word)
                | Q(id__in=_at_clinics(name_key__contains=word))
            )
    if available_on:
        free_that_day = _bookable_days(now or timezone.now()).filter(day=available_on).values("doctor_id")
        doctors = doctors.filter(id__in=free_that_day)
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
    return doctors


def with_clinic_limits(doctors: QuerySet[Doctor]) -> QuerySet[Doctor]:
    """Each row with the longest minimum notice and the shortest horizon of all clinics (two
    scalar subqueries in the page's query, no query of their own): how long the clock leaves an
    answer unchanged (appointments/search_cache.py)."""
    clinics = Clinic.objects.order_by()
    return doctors.annotate(
        longest_notice_minutes=Subquery(clinics.order_by("-min_notice_minutes").values("min_notice_minutes")[:1]),
        shortest_horizon_days=Subquery(clinics.order_by("horizon_days").values("horizon_days")[:1]),
    )


def _at_clinics(**clinic_filters) -> QuerySet:
    """Ids of the doctors working at a clinic matching the filters, as a subquery."""
    memberships = Doctor.clinics.through.objects.filter(**{f"clinic__{k}": v for k, v in clinic_filters.items()})
    return memberships.values("doctor_id")


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def next_available_for(*, doctor_ids, now: datetime | None = None) -> dict:
    """{doctor_id: first bookable slot start, in its clinic's zone} for many doctors (a list of
    ids or a queryset of them), in one query whatever their number (UNION ALL of two reads): the
    earliest row per doctor and clinic whose first free slot is already bookable, and the rows
    where now + notice falls between the first and the last free slot, with their stored starts."""
    now = now or timezone.now()
    rows = _bookable_days(now).filter(doctor_id__in=doctor_ids)
    candidates: dict = {}

    def offer(doctor_id, start: datetime, tz: str) -> None:
        if doctor_id not in candidates or start < candidates[doctor_id][0]:
            candidates[doctor_id] = (start, tz)

    columns = ("doctor_id", "clinic__timezone", "first", "notice", "horizon", "starts")
    earliest = (
        rows.filter(first_free__gte=_not_before(now))
        .values("doctor_id", "clinic__timezone")
        .annotate(
            first=Min("first_free"),
            notice=Value(None, output_field=IntegerField()),
            horizon=Value(None, output_field=IntegerField()),
            starts=Value(None, output_field=JSONField()),
        )
        .values_list(*columns)
    )
    cut = (
        rows.filter(first_free__lt=_not_before(now))
        .annotate(
            first=F("first_free"),
            notice=F("clinic__min_notice_minutes"),
            horizon=F("clinic__horizon_days"),
            starts=F("free_starts"),
        )
        .values_list(*columns)
    )
    now_s = now.timestamp()
    for doctor_id, tz, first, notice, horizon, starts in earliest.union(cut, all=True):
        if starts is None:
            offer(doctor_id, first, tz)
            continue
        i = bisect.bisect_left(starts, now_s + notice * 60)
        if i < len(starts) and starts[i] <= now_s + horizon * 86400:
            offer(doctor_id, datetime.fromtimestamp(starts[i], UTC), tz)
    return {doctor_id: start.astimezone(zone(tz)) for doctor_id, (start, tz) in candidates.items()}


def doctor_ids_by_next_available(*, doctors: QuerySet[Doctor], now: datetime | None = None) -> tuple[list, dict]:
    """The ids of `doctors`, soonest bookable slot first (those without one last, by name), and
    the {id: next_available} they were sorted by: three queries whatever their number."""
    ids = list(doctors.order_by("user__name_key", "id").values_list("id", flat=True))
    soonest = next_available_for(doctor_ids=doctors.order_by().values("id"), now=now)
    never = datetime.max.replace(tzinfo=UTC)
    ids.sort(key=lambda doctor_id: soonest.get(doctor_id) or never)
    return ids, soonest


def doctors_in_order(*, ids: list) -> list[Doctor]:
    """The doctors with these ids, in this order, with what the list shows prefetched."""
    by_id = {doctor.id: doctor for doctor in _shown(Doctor.objects.filter(id__in=ids))}
    return [by_id[doctor_id] for doctor_id in ids if doctor_id in by_id]
