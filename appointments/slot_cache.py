"""Free slots of a doctor, cached without the clock and invalidated where availability changes.

`GET /api/v1/doctors/{id}/slots/` costs three queries and the slot arithmetic of every day asked
for. Its answer depends on the clock only through each clinic's minimum notice and horizon, so
what is cached is the answer *without* them: every free slot of the days asked for, rendered,
with its clinic's notice and horizon beside it. A hit applies the clock exactly as
`availability` does (`now + notice <= start <= now + horizon`), so a cached answer is never
older than the clock.

Exactness against writes rests on versions (appointments/cache_versions.py, shared with the
search cache): an entry remembers the doctor's version and the everything version, read *before*
its queries, and a hit needs both to be current (one round trip to the cache for the two versions
and the entry). Every write that changes a doctor's free time already recomputes the
availability index in its own transaction (`availability_index.touch` / `refresh_doctor`, the one
place where availability is kept); there the doctor's version is replaced, and again once the
transaction commits, before the writer's answer is sent. So the booker's next read, and
everyone's after it, misses every entry computed before the booking; an entry computed from a
read that began before the commit carries the old version and is never used.

Only a shared cache (Redis) keeps that promise across processes: SLOT_CACHE_SECONDS is 0
(off) without REDIS_URL, unless set. An entry is never filled from the read replica (a stale
replica would store a taken slot under a current version); a read there may still use one
filled from the primary. Cache errors fall back to the database: the cache can only save work.
"""

import logging
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache

from appointments import availability, cache_versions
from appointments.serializers import SlotOutput
from medplatform.db_routing import reading_from_replica

logger = logging.getLogger(__name__)


def enabled() -> bool:
    return settings.SLOT_CACHE_SECONDS > 0


def _entry_key(doctor_id, first_day: date, last_day: date) -> str:
    return f"slots:e:{doctor_id}:{first_day.isoformat()}:{last_day.isoformat()}"


def cached_slots(*, doctor_id, first_day: date, last_day: date, compute, now: datetime | None = None) -> list[dict]:
    """The rendered free slots (SlotOutput's dicts) of local days first_day..last_day at `now`.

    `compute()` returns the Schedules of the doctor for those days (two queries, after the doctor's); it runs
    on a miss only."""
    from django.utils import timezone

    now_us = availability.micros(now or timezone.now())
    if not enabled():
        return _render(_clock_free(compute(), doctor_id, first_day, last_day), now_us)
    entry_key = _entry_key(doctor_id, first_day, last_day)
    try:
        version_keys = [cache_versions.doctor_key(doctor_id), cache_versions.EVERYTHING]
        found = cache.get_many([*version_keys, entry_key])
        entry = found.get(entry_key)
        versions = tuple(found.get(key) for key in version_keys)
        if entry is not None and None not in versions and entry[0] == versions:
            return _render(entry[1], now_us)
        versions = tuple(cache_versions.current(version_keys, found).values())
    except Exception as exc:  # noqa: BLE001 - the cache only saves work; the database answers
        logger.warning("slot cache unavailable (%s): reading the database", type(exc).__name__)
        return _render(_clock_free(compute(), doctor_id, first_day, last_day), now_us)
    rows = _clock_free(compute(), doctor_id, first_day, last_day)
    if None not in versions and not reading_from_replica():
        try:
            cache.set(entry_key, (versions, rows), settings.SLOT_CACHE_SECONDS)
        except Exception as exc:  # noqa: BLE001
            logger.warning("slot cache unavailable (%s): entry not stored", type(exc).__name__)
    return _render(rows, now_us)


def _clock_free(schedules, doctor_id, first_day: date, last_day: date) -> list[tuple[int, int, int, dict]]:
    """(start, notice, horizon, rendered slot) of every free slot whatever the clock (microseconds)."""
    limits = {
        shift.clinic_id: (
            shift.min_notice // availability.MICROSECOND,
            shift.horizon // availability.MICROSECOND,
        )
        for shift in schedules.shifts.get(doctor_id, ())
    }
    slots = list(schedules.free_slots(doctor_id, first_day=first_day, last_day=last_day, now=None))
    rendered = SlotOutput(slots, many=True).data
    return [
        (availability.micros(slot.start), *limits[slot.clinic_id], dict(data))
        for slot, data in zip(slots, rendered, strict=True)
    ]


def _render(rows: list[tuple[int, int, int, dict]], now_us: int) -> list[dict]:
    """The rows a booking at `now` may take: the same test as availability._free_intervals."""
    return [data for start, notice, horizon, data in rows if now_us + notice <= start <= now_us + horizon]
