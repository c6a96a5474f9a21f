"""The availability index (models.DayAvailability): per doctor, clinic and local day, the free
slots as appointments/availability.py computes them, so that search reads rows, not schedules.

One definition of a free slot: every row is `availability.day_free_starts` over the doctor's
schedule (selectors.Schedules), the same computation booking validates a start time with, only
without the clock. Minimum notice and horizon depend on `now`, so they are not stored; search
applies them when it reads (appointments/search.py):

- a day has a bookable slot when free_slots > 0, last_free >= now + notice and
  first_free <= now + horizon (exact whenever a clinic's horizon exceeds its notice by more than
  a day, as every real configuration does: 90 days against 2 hours by default);
- the next free slot is the smallest first_free >= now + notice, except on the one day per clinic
  where now + notice falls between first_free and last_free ("today", or tomorrow with a long
  notice): there the stored `free_starts` give the first start after it, without recomputing.

The window: local days from yesterday (UTC) to today + the clinic's horizon + 2, which holds
every slot a `now` of today can book in any zone, with a day's slack for the daily roll.

Kept exact by the writes themselves, in their transactions: booking, cancelling, rescheduling,
time off and its cancellations call `touch` for the span that changed; working hours and breaks
call `refresh_doctor`. Both replace the versions of the cached answers they change once the
transaction commits (appointments/cache_versions.py: the doctor's; the touched days', or every
search's), and recompute those days inside the transaction after the write, under the per-doctor
lock every availability writer takes at its start (the doctor's row, appointments.locks; checked
here), so two concurrent bookings of one doctor cannot each write a count that misses the other.
A booking hands over the schedule it read under that lock, so its days are computed without
reading the schedule again. Days rolling
into the window: the daily beat task (tasks.roll_availability) and `manage.py
rebuild_availability` (which also checks: `--check`). Changing a clinic's time zone or horizon
(accounts) moves its days: run `manage.py rebuild_availability` afterwards.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Doctor
from appointments import availability, cache_versions, locks
from appointments.models import DayAvailability
from appointments.selectors import Schedules

# Local days before today kept in the index: a zone behind UTC is still on yesterday.
DAYS_BEFORE = 1
# Days after today + horizon: zones ahead of UTC, and slack for a roll that runs late.
DAYS_AFTER = 2
# Doctors per transaction when rebuilding or checking everyone.
CHUNK = 200

VALUE_FIELDS = ("free_slots", "first_free", "last_free", "free_starts")


@dataclass(frozen=True)
class Row:
    doctor_id: object
    clinic_id: object
    day: date
    free_starts: tuple[int, ...]  # epoch seconds, sorted

    @property
    def key(self) -> tuple:
        return (self.doctor_id, self.clinic_id, self.day)

    def values(self) -> tuple:
        first = availability.from_micros(self.free_starts[0] * 1_000_000) if self.free_starts else None
        last = availability.from_micros(self.free_starts[-1] * 1_000_000) if self.free_starts else None
        return (len(self.free_starts), first, last, list(self.free_starts))

    def model(self) -> DayAvailability:
        free_slots, first, last, starts = self.values()
        return DayAvailability(
            doctor_id=self.doctor_id,
            clinic_id=self.clinic_id,
            day=self.day,
            free_slots=free_slots,
            first_free=first,
            last_free=last,
            free_starts=starts,
        )


def today() -> date:
    return timezone.now().date()


def _last_day(horizon: timedelta, on: date) -> date:
    return on + timedelta(days=horizon.days + DAYS_AFTER)


def compute(
    doctor_ids: Iterable, *, first_day: date, last_day: date, on: date | None = None, days: set[date] | None = None
) -> list[Row]:
    """The index rows of these doctors on local days first_day..last_day (only `days` among them
    when given), inside each clinic's window, from the database as it is now: two queries
    whatever the number of doctors."""
    on = on or today()
    first_day = max(first_day, on - timedelta(days=DAYS_BEFORE))
    doctor_ids = list(doctor_ids)
    if first_day > last_day or not doctor_ids:
        return []
    schedules = Schedules(doctor_ids, first_day=first_day, last_day=last_day)
    return rows_from(schedules, doctor_ids, first_day=first_day, last_day=last_day, on=on, days=days)


def rows_from(
    schedules: Schedules,
    doctor_ids: list,
    *,
    first_day: date,
    last_day: date,
    on: date | None = None,
    days: set[date] | None = None,
    busy: dict | None = None,
) -> list[Row]:
    """`compute`'s rows from schedules already read (`busy`: each doctor's busy time, when not
    the schedules' own)."""
    on = on or today()
    first_day = max(first_day, on - timedelta(days=DAYS_BEFORE))
    rows = []
    for doctor_id in doctor_ids:
        shifts = schedules.shifts.get(doctor_id)
        if not shifts:
            continue
        pauses = schedules.pauses.get(doctor_id, ())
        doctor_busy = busy[doctor_id] if busy is not None else schedules.busy_of(doctor_id)
        weekdays = {shift.weekday for shift in shifts}
        day = first_day
        while day <= last_day:
            if day.weekday() in weekdays and (days is None or day in days):
                starts = availability.day_free_starts(day, shifts=shifts, pauses=pauses, busy=doctor_busy)
                clinics = {
                    s.clinic_id for s in shifts if s.weekday == day.weekday() and day <= _last_day(s.horizon, on)
                }
                for clinic_id in clinics:
                    seconds = tuple(start // 1_000_000 for start in starts.get(clinic_id, ()))
                    rows.append(Row(doctor_id, clinic_id, day, seconds))
            day += timedelta(days=1)
    return rows


def touch(
    *,
    doctor_id,
    spans: Iterable[tuple[datetime, datetime]],
    schedule: Schedules | None = None,
    booked: tuple[datetime, datetime] | None = None,
) -> None:
    """Recompute a doctor's rows for the local days the spans [start, end) touch in any zone,
    after a write that changed busy time only (a booking, a cancel, a reschedule's old and new
    time, time off): the rows' keys stay, so they are upserted in one statement.

    `schedule`: the doctor's schedule as the writer read it after taking the doctor's lock
    (appointments.locks), before its own write, with `booked` the span that write made busy (a
    booking): the rows are computed from it, without reading the schedule again, when it covers
    every day to recompute (one statement, the upsert; otherwise read as usual)."""
    touch_doctors({doctor_id: spans}, schedule=schedule, booked=booked)


def touch_doctors(
    spans_by_doctor: dict, *, schedule: Schedules | None = None, booked: tuple[datetime, datetime] | None = None
) -> None:
    """`touch` for several doctors at once (a withdrawal cancelling bookings with many): the
    same three statements whatever their number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("availability_index.touch belongs inside the write's transaction")
    doctor_ids = sorted(spans_by_doctor, key=str)
    zones = None  # any zone
    if schedule is not None and schedule.every_weekday:
        # Every working hour of the doctor is in hand, so the zones of its clinics are known: only
        # the local days the spans touch in those zones have rows that can change (none without hours).
        (doctor_id,) = doctor_ids
        zones = {shift.timezone for shift in schedule.shifts.get(doctor_id, ())}
    days = _days_touched([span for spans in spans_by_doctor.values() for span in spans], zones)
    if not days:
        return
    locks.check_held(doctor_ids)
    cache_versions.bump_doctors(doctor_ids, days=days)
    if schedule is not None and schedule.covers(first_day=min(days), last_day=max(days)):
        (doctor_id,) = doctor_ids
        rows = rows_from(
            schedule,
            [doctor_id],
            first_day=min(days),
            last_day=max(days),
            days=days,
            busy={doctor_id: schedule.busy_for_anybody(doctor_id, also=booked)},
        )
    else:
        # Days another doctor's span touched are recomputed too: harmless, and still one read.
        rows = compute(doctor_ids, first_day=min(days), last_day=max(days), days=days)
    if rows:
        DayAvailability.objects.bulk_create(
            [row.model() for row in rows],
            update_conflicts=True,
            unique_fields=["doctor", "clinic", "day"],
            update_fields=[*VALUE_FIELDS, "updated_at"],
        )


def _days_touched(spans: list[tuple[datetime, datetime]], zones: set[str] | None) -> set[date]:
    """The local days the spans [start, end) touch in each of `zones`; with None, in any zone
    (a local date is the UTC date give or take one)."""
    days: set[date] = set()
    for start, end in spans:
        last = end - availability.MICROSECOND
        if zones is None:
            first_day = start.astimezone(availability.UTC).date() - timedelta(days=1)
            last_day = last.astimezone(availability.UTC).date() + timedelta(days=1)
            days.update(availability.days_between(first_day, last_day))
        for name in zones or ():
            tz = availability.zone(name)
            days.update(availability.days_between(start.astimezone(tz).date(), last.astimezone(tz).date()))
    return days


def refresh_doctor(*, doctor_id) -> None:
    """Recompute a doctor's whole window, after working hours or breaks changed (days appear and go)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("availability_index.refresh_doctor belongs inside the write's transaction")
    _replace([doctor_id])


def _replace(doctor_ids: list, *, on: date | None = None) -> int:
    on = on or today()
    locks.check_held(doctor_ids)
    cache_versions.bump_doctors(doctor_ids)
    cache_versions.bump_search()  # any day of the window may change: every `available_on` search
    rows = compute(doctor_ids, first_day=on - timedelta(days=DAYS_BEFORE), last_day=_window_end(on), on=on)
    DayAvailability.objects.filter(doctor_id__in=doctor_ids).delete()
    DayAvailability.objects.bulk_create([row.model() for row in rows], batch_size=2000)
    return len(rows)


def _window_end(on: date) -> date:
    from accounts.models import Clinic

    longest = max(Clinic.objects.values_list("horizon_days", flat=True), default=0)
    return on + timedelta(days=longest + DAYS_AFTER)


def _chunks(ids: list, size: int = CHUNK):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _all_doctor_ids() -> list:
    return list(Doctor.objects.order_by("id").values_list("id", flat=True))


def rebuild(*, on: date | None = None) -> int:
    """Recompute every doctor's window from scratch, a chunk of doctors per transaction; returns the rows written."""
    on = on or today()
    written = 0
    for chunk in _chunks(_all_doctor_ids()):
        with transaction.atomic():
            locks.hold_doctors(chunk)
            written += _replace(chunk, on=on)
    DayAvailability.objects.exclude(doctor_id__in=Doctor.objects.values("id")).delete()
    cache_versions.bump_everything()  # after a bulk load that went around the services
    return written


def roll(*, on: date | None = None) -> int:
    """The daily step: drop days gone by and add the days entering each clinic's window (the
    last week of the window is recomputed, so a few missed days catch up); returns rows written."""
    on = on or today()
    DayAvailability.objects.filter(day__lt=on - timedelta(days=DAYS_BEFORE)).delete()
    last_day = _window_end(on)
    written = 0
    for chunk in _chunks(_all_doctor_ids()):
        with transaction.atomic():
            locks.hold_doctors(chunk)
            rows = compute(chunk, first_day=last_day - timedelta(days=7), last_day=last_day, on=on)
            DayAvailability.objects.bulk_create(
                [row.model() for row in rows],
                update_conflicts=True,
                unique_fields=["doctor", "clinic", "day"],
                update_fields=[*VALUE_FIELDS, "updated_at"],
                batch_size=2000,
            )
            written += len(rows)
    # Rows are recomputed without a write telling which doctors changed (a late roll catching up).
    cache_versions.bump_search()
    return written


@dataclass(frozen=True)
class Difference:
    key: tuple  # (doctor_id, clinic_id, day)
    stored: tuple | None  # (free_slots, first_free, last_free, free_starts)
    expected: tuple | None

    def __str__(self) -> str:
        doctor_id, clinic_id, day = self.key
        return f"doctor {doctor_id} clinic {clinic_id} {day}: stored {self.stored}, expected {self.expected}"


def differences(*, on: date | None = None, doctor_ids: Iterable | None = None) -> list[Difference]:
    """Where the stored index differs from a recomputation from scratch (empty when exact)."""
    on = on or today()
    ids = list(doctor_ids) if doctor_ids is not None else _all_doctor_ids()
    found = []
    last_day = _window_end(on)
    for chunk in _chunks(ids):
        expected = {
            row.key: row.values()
            for row in compute(chunk, first_day=on - timedelta(days=DAYS_BEFORE), last_day=last_day, on=on)
        }
        stored = {
            (doctor_id, clinic_id, day): tuple(values)
            for doctor_id, clinic_id, day, *values in DayAvailability.objects.filter(doctor_id__in=chunk)
            .order_by()
            .values_list("doctor_id", "clinic_id", "day", *VALUE_FIELDS)
        }
        for key in sorted(expected.keys() | stored.keys(), key=str):
            if expected.get(key) != stored.get(key):
                found.append(Difference(key, stored.get(key), expected.get(key)))
    if doctor_ids is None:
        orphans = DayAvailability.objects.exclude(doctor_id__in=ids).order_by()
        for doctor_id, clinic_id, day, *values in orphans.values_list("doctor_id", "clinic_id", "day", *VALUE_FIELDS):
            found.append(Difference((doctor_id, clinic_id, day), tuple(values), None))
    return found
