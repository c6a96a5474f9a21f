"""Reads: scoped appointment lists and the data slot computation needs, in fixed query counts."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ClinicMembership, Doctor, User
from accounts.permissions import acted_for_filter
from appointments import availability, held_time
from appointments.availability import Busy, Pause, Shift, Slot
from appointments.models import Appointment, Break, TimeOff, WorkingHours
from medplatform.errors import NotFound
from medplatform.prepared_queries import PreparedQuery
from privacy.context import SYSTEM, ActContext
from privacy.guard import sensitive_read

SHIFT_COLUMNS = (
    "doctor_id",
    "weekday",
    "start_time",
    "end_time",
    "slot_minutes",
    "clinic_id",
    "clinic__timezone",
    "clinic__min_notice_minutes",
    "clinic__horizon_days",
    "visit_types",
)

# A break's row in the same columns (SHIFT_COLUMNS' order), what only working hours have left empty.
PAUSE_PADDING = {
    "no_minutes": Value(None, output_field=IntegerField()),
    "no_timezone": Value(None, output_field=CharField()),
    "no_notice": Value(None, output_field=IntegerField()),
    "no_horizon": Value(None, output_field=IntegerField()),
    "no_visit_types": Value(None, output_field=JSONField()),
}
# A busy row's last column: busy for `for_patient` too (False), or only for the index (True).
NOT_ONLY_FOR_ANYBODY = Value(False, output_field=BooleanField())
ONLY_FOR_ANYBODY = Value(True, output_field=BooleanField())

PAUSE_COLUMNS = (
    "doctor_id",
    "weekday",
    "start_time",
    "end_time",
    "no_minutes",
    "clinic_id",
    "no_timezone",
    "no_notice",
    "no_horizon",
    "no_visit_types",
)


class Schedules:
    """Shifts, breaks and busy time of many doctors, loaded in two queries (hours and breaks, then
    time off and bookings, each a UNION ALL), one when nobody works on those days.

    Plain tuples rather than model instances: search loads these for every candidate doctor.
    `doctor_ids` may be a queryset of ids, used as a subquery. Busy time is time off, bookings and
    time held for a patient (held_time: a waitlist offer), except what is held for `for_patient`;
    with `for_patient`, time held for them is read too (same query), for `busy_for_anybody`: the
    availability index's busy time, kept from a booking's read (availability_index.touch)."""

    def __init__(
        self,
        doctor_ids: Iterable | QuerySet,
        *,
        first_day: date,
        last_day: date,
        weekdays: Iterable[int] | None = None,
        exclude_appointment=None,
        for_patient=None,
    ):
        self.shifts: dict = defaultdict(list)
        self.pauses: dict = defaultdict(list)
        busy: dict = defaultdict(list)
        self.busy: dict = {}
        self._busy_intervals: dict = {}
        self._held_for_patient: dict = defaultdict(list)
        self.first_day, self.last_day, self.every_weekday = first_day, last_day, weekdays is None
        if not isinstance(doctor_ids, QuerySet):
            doctor_ids = list(doctor_ids)
            if not doctor_ids:
                return
        # One doctor (a booking, a doctor's slots, the index of one doctor): the same queries,
        # compiled once per connection (medplatform.prepared_queries).
        one = None
        if not isinstance(doctor_ids, QuerySet) and len(doctor_ids) == 1 and weekdays is None:
            one = Doctor._meta.pk.to_python(doctor_ids[0])
        shift_rows = _ONE_DOCTOR_SHIFTS.tuples(doctor_id=one) if one is not None else _shift_rows(doctor_ids, weekdays)
        for doctor_id, weekday, t0, t1, minutes, clinic_id, tz, notice, horizon, kinds in shift_rows:
            if minutes is None:
                self.pauses[doctor_id].append(Pause(weekday, t0, t1, clinic_id))
                continue
            self.shifts[doctor_id].append(
                Shift(
                    weekday=weekday,
                    start_time=t0,
                    end_time=t1,
                    slot_minutes=minutes,
                    clinic_id=clinic_id,
                    timezone=tz,
                    min_notice=timedelta(minutes=notice),
                    horizon=timedelta(days=horizon),
                    visit_types=tuple(kinds or ()),
                )
            )
        window = _busy_window([s for shifts in self.shifts.values() for s in shifts], first_day, last_day)
        if window is None:
            return  # nobody works then: no slots, nothing else to load
        start, end = window
        which = {
            "start": start,
            "end": end,
            "exclude_id": None if exclude_appointment is None else exclude_appointment.pk,
            "patient_id": None if for_patient is None else for_patient.pk,
        }
        rows = _ONE_DOCTOR_BUSY.tuples(doctor_id=one, **which) if one is not None else _busy_rows(doctor_ids, **which)
        for doctor_id, busy_start, busy_end, anybody in _in_micros(rows):
            (self._held_for_patient if anybody else busy)[doctor_id].append((busy_start, busy_end))
        self.busy = {doctor_id: Busy.of_micros(intervals) for doctor_id, intervals in busy.items()}
        self._busy_intervals = busy

    def busy_of(self, doctor_id) -> Busy:
        return self.busy.get(doctor_id) or Busy(())

    def covers(self, *, first_day: date, last_day: date) -> bool:
        """Whether this read holds everything of local days first_day..last_day."""
        return self.every_weekday and self.first_day <= first_day and last_day <= self.last_day

    def busy_for_anybody(self, doctor_id, *, also: tuple[datetime, datetime] | None = None) -> Busy:
        """The doctor's busy time for no patient in particular (time held for `for_patient` too),
        and `also` (a span just booked)."""
        intervals = [*self._busy_intervals.get(doctor_id, ()), *self._held_for_patient.get(doctor_id, ())]
        if also is not None:
            intervals.append((availability.micros(also[0]), availability.micros(also[1])))
        return Busy.of_micros(intervals)

    def free_slots(self, doctor_id, *, first_day: date, last_day: date, now: datetime):
        return availability.free_slots(
            shifts=self.shifts.get(doctor_id, ()),
            pauses=self.pauses.get(doctor_id, ()),
            busy=self.busy_of(doctor_id),
            first_day=first_day,
            last_day=last_day,
            now=now,
        )

    def find_slot(self, doctor_id, start: datetime, *, now: datetime) -> Slot | None:
        return availability.find_slot(
            start,
            shifts=self.shifts.get(doctor_id, ()),
            pauses=self.pauses.get(doctor_id, ()),
            busy=self.busy_of(doctor_id),
            now=now,
        )


class EpochMicroseconds(Func):
    """A PostgreSQL timestamptz as integer microseconds since the Unix epoch (exact)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def _shift_rows(doctor_ids, weekdays=None) -> QuerySet:
    """Working hours and breaks in one statement (UNION ALL): a break is a row without slot minutes."""
    hours = WorkingHours.objects.filter(doctor_id__in=doctor_ids).order_by()
    pauses = Break.objects.filter(doctor_id__in=doctor_ids).order_by()
    if weekdays is not None:
        hours = hours.filter(weekday__in=list(weekdays))
        pauses = pauses.filter(weekday__in=list(weekdays))
    breaks = pauses.annotate(**PAUSE_PADDING).values_list(*PAUSE_COLUMNS)
    return hours.values_list(*SHIFT_COLUMNS).union(breaks, all=True)


def _busy_rows(doctor_ids, *, start, end, exclude_id=None, patient_id=None) -> QuerySet:
    """(doctor_id, start, end, anybody) of time off, bookings and held time overlapping [start,
    end), in one statement (UNION ALL); `anybody`: busy only for the index (held for the patient
    `patient_id`, whose own holds are free to them). Start and end are epoch microseconds on
    PostgreSQL, which computes them (parsing the thousands of timestamps a search loads took longer
    than all its slot arithmetic); `_in_micros` converts other databases' datetimes."""
    time_off = TimeOff.objects.filter(doctor_id__in=doctor_ids, start__lt=end, end__gt=start)
    booked = Appointment.objects.filter(
        doctor_id__in=doctor_ids, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start
    )
    if exclude_id is not None:
        booked = booked.exclude(pk=exclude_id)
    for_patient = None if patient_id is None else User(pk=patient_id)
    held = held_time.held_rows(doctor_ids, start=start, end=end, for_patient=for_patient)
    busy_sets = [rows.annotate(anybody=NOT_ONLY_FOR_ANYBODY) for rows in (time_off, booked, *held)]
    if for_patient is not None:
        # Held for anybody, the patient's own holds among them (the others twice: harmless).
        busy_sets += [
            rows.annotate(anybody=ONLY_FOR_ANYBODY) for rows in held_time.held_rows(doctor_ids, start=start, end=end)
        ]
    first, *others = [rows.order_by() for rows in busy_sets]
    if connections[first.db].vendor == "postgresql":
        first, *others = [
            rows.annotate(start_us=EpochMicroseconds("start"), end_us=EpochMicroseconds("end")).values_list(
                "doctor_id", "start_us", "end_us", "anybody"
            )
            for rows in (first, *others)
        ]
    else:
        first, *others = [rows.values_list("doctor_id", "start", "end", "anybody") for rows in (first, *others)]
    return first.union(*others, all=True) if others else first


def _in_micros(rows: Iterable[tuple]) -> Iterable[tuple]:
    """`_busy_rows`' rows with start and end in epoch microseconds, whatever the database gave."""
    for doctor_id, start, end, anybody in rows:
        if isinstance(start, datetime):
            start, end = availability.micros(start), availability.micros(end)
        yield doctor_id, start, end, anybody


_ONE_DOCTOR_SHIFTS = PreparedQuery(WorkingHours, lambda doctor_id: _shift_rows([doctor_id]), doctor_id=UUID)
_ONE_DOCTOR_BUSY = PreparedQuery(
    Appointment,
    lambda doctor_id, **values: _busy_rows([doctor_id], **values),
    optional=("exclude_id", "patient_id"),
    doctor_id=UUID,
    start=datetime,
    end=datetime,
    exclude_id=UUID,
    patient_id=UUID,
)


def _busy_window(shifts: list[Shift], first_day: date, last_day: date) -> tuple[datetime, datetime] | None:
    """The UTC span the shifts can cover on local days first_day..last_day: bookings and time off
    outside it cannot touch a slot, so they are not loaded. One day: from the earliest shift
    start to the latest shift end of that weekday; several: local midnight to midnight."""
    if first_day == last_day:
        shifts = [shift for shift in shifts if shift.weekday == first_day.weekday()]
        if not shifts:
            return None
        return (
            min(availability.instant(first_day, shift.start_time, shift.timezone) for shift in shifts),
            max(availability.instant(first_day, shift.end_time, shift.timezone) for shift in shifts),
        )
    if not shifts:
        return None
    zones = {shift.timezone for shift in shifts}
    return (
        min(availability.instant(first_day, time.min, tz) for tz in zones),
        max(availability.instant(last_day + timedelta(days=1), time.min, tz) for tz in zones),
    )


def slots_for(*, doctor: Doctor, first_day: date, last_day: date, now: datetime | None = None) -> list[Slot]:
    """A doctor's free slots on local days first_day..last_day (two queries)."""
    now = now or timezone.now()
    schedules = Schedules([doctor.id], first_day=first_day, last_day=last_day)
    return list(schedules.free_slots(doctor.id, first_day=first_day, last_day=last_day, now=now))


def doctor_slots_shown(*, doctor_id, first_day: date, last_day: date, now: datetime | None = None) -> list[dict]:
    """What GET /doctors/{id}/slots/ answers: the free slots of an active doctor on local days
    first_day..last_day, rendered (appointments/slot_cache.py: three queries on a miss, none on a
    hit); NotFound for an unknown or inactive doctor."""
    from appointments import slot_cache

    def compute() -> Schedules:
        if not Doctor.objects.filter(id=doctor_id, is_active=True).exists():
            raise NotFound()
        return Schedules([doctor_id], first_day=first_day, last_day=last_day)

    return slot_cache.cached_slots(
        doctor_id=doctor_id, first_day=first_day, last_day=last_day, compute=compute, now=now
    )


def schedule_around(*, doctor: Doctor, instant: datetime, exclude_appointment=None, for_patient=None) -> Schedules:
    """What booking needs to validate one start time (for `for_patient`: time held for them is free)."""
    day = instant.astimezone(availability.UTC).date()
    return Schedules(
        [doctor.id],
        first_day=day - timedelta(days=1),
        last_day=day + timedelta(days=1),
        exclude_appointment=exclude_appointment,
        for_patient=for_patient,
    )


def appointment_list(
    *,
    viewer: User,
    status: str | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    doctor_id=None,
) -> QuerySet[Appointment]:
    """Appointments the viewer may see: a patient their own and their dependants', a doctor their
    agenda, staff their clinics'."""
    appointments = Appointment.objects.select_related("doctor__user", "clinic", "patient")
    if not viewer.is_authenticated:
        return appointments.none()
    if viewer.is_patient:
        appointments = appointments.filter(acted_for_filter(viewer))
    elif viewer.is_doctor:
        appointments = appointments.filter(doctor__user=viewer)
    elif viewer.is_clinic_staff:
        appointments = appointments.filter(
            clinic_id__in=ClinicMembership.objects.filter(user=viewer).values("clinic_id")
        )
    else:
        return appointments.none()
    if status:
        appointments = appointments.filter(status=status)
    if start_from:
        appointments = appointments.filter(start__gte=start_from)
    if start_to:
        appointments = appointments.filter(start__lt=start_to)
    if doctor_id:
        appointments = appointments.filter(doctor_id=doctor_id)
    return appointments.order_by("start", "id")


def booked_inside(*, viewer: User, doctor: Doctor, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """The doctor's booked visits overlapping [start, end) that the viewer may see: what a time off
    over that span would cancel (the same overlap `time_off_create` locks)."""
    return appointment_list(viewer=viewer, status=Appointment.Status.BOOKED, doctor_id=doctor.pk).filter(
        start__lt=end, end__gt=start
    )


def appointment_get(*, viewer: User, appointment_id) -> Appointment:
    """One appointment the viewer may see, or not_found (never permission_denied)."""
    appointment = appointment_list(viewer=viewer).filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound()
    return appointment


VISIT_DETAILS = ("exam_type", "visit_reason")


def appointment_detail(*, viewer: User, appointment_id, context: ActContext = SYSTEM) -> Appointment:
    """One appointment with its visit reason and exam type: whoever sees them besides the patient
    (the doctor, the clinic's staff) is recorded in the patient's access log."""
    appointment = appointment_get(viewer=viewer, appointment_id=appointment_id)
    sensitive_read(
        actor=viewer,
        subject=appointment.patient,
        what="appointment_viewed",
        categories=VISIT_DETAILS,
        metadata={"appointment": str(appointment.id)},
        context=context,
    )
    return appointment


def appointment_shown(*, viewer: User, appointment: Appointment, context: ActContext = SYSTEM) -> Appointment:
    """`appointment_detail` for the row a service has just written and returned (with its clinic,
    doctor and patient): the same audit of the read, the history in one query (none when the
    service already holds it), and no second read of the appointment."""
    sensitive_read(
        actor=viewer,
        subject=appointment.patient,
        what="appointment_viewed",
        categories=VISIT_DETAILS,
        metadata={"appointment": str(appointment.id)},
        context=context,
    )
    prefetch_related_objects([appointment], "history")
    return appointment


def appointment_history(*, appointment: Appointment):
    return appointment.history.all()


CANCELLED_STATUSES = (
    Appointment.Status.CANCELLED_BY_PATIENT,
    Appointment.Status.CANCELLED_BY_CLINIC,
    Appointment.Status.RELEASED,
)


def last_visit_start(*, patient: OuterRef, doctor: OuterRef) -> Subquery:
    """The start of the patient's latest appointment with the doctor that was not cancelled (a
    booked future visit counts), as a subquery for other apps to annotate with; NULL when none."""
    visits = Appointment.objects.filter(patient_id=patient, doctor_id=doctor).exclude(status__in=CANCELLED_STATUSES)
    return Subquery(visits.order_by("-start").values("start")[:1])


def working_hours_list(*, doctor: Doctor) -> QuerySet[WorkingHours]:
    return WorkingHours.objects.filter(doctor=doctor).order_by("weekday", "start_time", "id")


def break_list(*, doctor: Doctor) -> QuerySet[Break]:
    return Break.objects.filter(doctor=doctor).order_by("weekday", "start_time", "id")


def time_off_list(*, doctor: Doctor, ending_after: datetime | None = None) -> QuerySet[TimeOff]:
    time_off = TimeOff.objects.filter(doctor=doctor)
    if ending_after is not None:
        time_off = time_off.filter(end__gt=ending_after)
    return time_off.order_by("start", "id")


def appointment_privacy_summary(user: User) -> list[dict]:
    """The appointments part of the privacy summary (registered with privacy.subject_rights):
    what is kept and which doctors and clinics received it."""
    appointments = Appointment.objects.filter(patient=user)
    if not appointments.exists():
        return []
    recipients = sorted(
        {
            f"{doctor_title} {first} {last}".strip() + f" ({clinic})"
            for doctor_title, first, last, clinic in appointments.values_list(
                "doctor__title", "doctor__user__first_name", "doctor__user__last_name", "clinic__name"
            ).distinct()
        }
    )
    return [
        {
            "data": _("Your appointments (%(n)d): time, doctor, clinic, status, visit reason and exam type")
            % {"n": appointments.count()},
            "purpose": _("Booking and holding your visits"),
            "legal_basis": _("KVKK Art. 6: explicit consent (appointment_health_data)"),
            "recipients": recipients,
        }
    ]
