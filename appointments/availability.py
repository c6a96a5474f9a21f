"""Free slots, computed from working hours, breaks, time off and bookings.

Pure functions: no database, no clock (the caller passes `now`). Working hours and breaks are
wall-clock times in the clinic's zone; a day's shift is turned into two instants with zoneinfo
and cut into slots of equal *real* length, so a shift on a DST-change day is an hour shorter or
longer and no two slots overlap. Results are aware datetimes in UTC.

Inside, instants are integer microseconds since the Unix epoch: exact like datetimes, but
adding and comparing them costs a fraction as much, and search runs this for every candidate.
"""

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Shift:
    """One working-hours row, with what it needs from its clinic."""

    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int
    clinic_id: object
    timezone: str
    min_notice: timedelta
    horizon: timedelta
    visit_types: tuple[str, ...] = ("in_person",)


@dataclass(frozen=True)
class Pause:
    """A recurring break at one clinic on one weekday (wall-clock times)."""

    weekday: int
    start_time: time
    end_time: time
    clinic_id: object


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    clinic_id: object = field(compare=False)
    timezone: str = field(compare=False, default="UTC")
    visit_types: tuple[str, ...] = field(compare=False, default=("in_person",))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MINUTE = 60_000_000  # microseconds


def micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact)."""
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def instant(day: date, wall: time, tz: str) -> datetime:
    """The UTC instant of a wall-clock time on a local day.

    A time skipped by a spring-forward change is read with the offset before the change, and
    an ambiguous one (fall-back) as its first occurrence (zoneinfo's fold=0)."""
    return datetime.combine(day, wall, tzinfo=zone(tz)).astimezone(UTC)


@lru_cache(maxsize=4096)
def instant_micros(day: date, wall: time, tz: str) -> int:
    """`instant` in epoch microseconds. Cached: it depends on its arguments only, and search asks
    the same few (day, time, zone) for every candidate doctor."""
    return micros(instant(day, wall, tz))


class Busy:
    """Sorted, possibly overlapping [start, end) intervals with a fast overlap test."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]):
        self._set(sorted((micros(start), micros(end)) for start, end in intervals))

    @classmethod
    def of_micros(cls, intervals: Iterable[tuple[int, int]]) -> "Busy":
        """The same from (start, end) in epoch microseconds, as the database can give them."""
        busy = cls.__new__(cls)
        busy._set(sorted(intervals))
        return busy

    def _set(self, intervals: list[tuple[int, int]]) -> None:
        self._intervals = intervals
        self._starts = [start for start, _ in intervals]
        # Longest interval bounds how far back an overlapping one can start.
        self._longest = max((end - start for start, end in intervals), default=0)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.overlaps_micros(micros(start), micros(end))

    def overlaps_micros(self, start: int, end: int) -> bool:
        if not self._intervals:
            return False
        hi = bisect.bisect_left(self._starts, end)
        lo = bisect.bisect_left(self._starts, start - self._longest)
        return any(self._intervals[i][1] > start for i in range(lo, hi))


def days_between(first: date, last: date) -> Iterator[date]:
    """Each date from `first` to `last`, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _free_intervals(
    day: date, *, shifts: Sequence[Shift], pauses: Sequence[Pause], busy: Busy, now: datetime | None
) -> Iterator[tuple[int, int, Shift]]:
    """Free slots of one local day as (start, end, shift) in epoch microseconds, shift by shift
    and lazily, so that a caller asking whether there is one stops at the first.

    `now=None` leaves out the minimum notice and the horizon (the only parts that depend on the
    clock): what the availability index stores, so that it stays true as time passes."""
    weekday = day.weekday()
    for shift in shifts:
        if shift.weekday != weekday:
            continue
        tz = shift.timezone
        step = shift.slot_minutes * MINUTE
        shift_end = instant_micros(day, shift.end_time, tz)
        if now is None:
            not_before, not_after = -(2**62), 2**62
        else:
            now_us = micros(now)
            not_before = now_us + shift.min_notice // MICROSECOND
            not_after = now_us + shift.horizon // MICROSECOND
        breaks = Busy.of_micros(
            (instant_micros(day, pause.start_time, tz), instant_micros(day, pause.end_time, tz))
            for pause in pauses
            if pause.weekday == weekday and pause.clinic_id == shift.clinic_id
        )
        start = instant_micros(day, shift.start_time, tz)
        while start + step <= shift_end:
            end = start + step
            if (
                not_before <= start <= not_after
                and not breaks.overlaps_micros(start, end)
                and not busy.overlaps_micros(start, end)
            ):
                yield start, end, shift
            start = end


def day_slots(day: date, *, shifts: Sequence[Shift], pauses: Sequence[Pause], busy: Busy, now: datetime) -> list[Slot]:
    """Free slots of one local day (each shift in its own clinic's zone), in time order."""
    return sorted(
        Slot(from_micros(start), from_micros(end), shift.clinic_id, shift.timezone, shift.visit_types)
        for start, end, shift in _free_intervals(day, shifts=shifts, pauses=pauses, busy=busy, now=now)
    )


def day_free_starts(
    day: date, *, shifts: Sequence[Shift], pauses: Sequence[Pause], busy: Busy
) -> dict[object, list[int]]:
    """{clinic_id: sorted free slot starts (epoch microseconds)} of one local day whatever the
    clock says (no minimum notice, no horizon): the availability index's part of `day_slots`."""
    starts: dict[object, list[int]] = {}
    for start, _end, shift in _free_intervals(day, shifts=shifts, pauses=pauses, busy=busy, now=None):
        starts.setdefault(shift.clinic_id, []).append(start)
    for values in starts.values():
        values.sort()
    return starts


def free_slots(
    *,
    shifts: Sequence[Shift],
    pauses: Sequence[Pause],
    busy: Iterable[tuple[datetime, datetime]],
    first_day: date,
    last_day: date,
    now: datetime,
) -> Iterator[Slot]:
    """Free slots on the local days first_day..last_day (inclusive), day by day in time order.

    `busy` holds time off and booked appointments; a slot that touches any of them is taken."""
    busy = busy if isinstance(busy, Busy) else Busy(busy)
    for day in days_between(first_day, last_day):
        yield from day_slots(day, shifts=shifts, pauses=pauses, busy=busy, now=now)


def find_slot(
    start: datetime, *, shifts: Sequence[Shift], pauses: Sequence[Pause], busy: Busy, now: datetime
) -> Slot | None:
    """The free slot beginning exactly at `start`, if there is one."""
    start = start.astimezone(UTC)
    local_days = {start.astimezone(zone(shift.timezone)).date() for shift in shifts}
    for day in sorted(local_days):
        for slot in day_slots(day, shifts=shifts, pauses=pauses, busy=busy, now=now):
            if slot.start == start:
                return slot
    return None
