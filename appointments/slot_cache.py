"""Free slots of a doctor, cached without the clock and invalidated where availability changes.

`GET /api/v1/doctors/{id}/slots/` costs three queries and the slot arithmetic of every day asked
for. Its answer depends on the clock only through each clinic's minimum notice and horizon, so
what is cached is the answer *without* them: every free slot of the days asked for, rendered,
with its clinic's notice and horizon beside it. A hit applies the clock exactly as
`availability` does (`now + notice <= start <= now + horizon`), so a cached answer is never
older than the clock.

Exactness against writes rests on versions, one per doctor and one for everything (clinics'
zones, notice and horizon; a doctor made inactive; a rebuild of the index):

- an entry remembers the two versions it was computed under, read *before* its queries; a hit
  needs both to be current (one round trip to the cache for the two versions and the entry);
- every write that changes a doctor's free time already recomputes the availability index in
  its own transaction (`availability_index.touch` / `refresh_doctor`, the one place where
  availability is kept); there `bump_doctors` replaces the doctor's version, and again once the
  transaction commits, before the writer's answer is sent. So the booker's next read, and everyone's after
  it, misses every entry computed before the booking; an entry computed from a read that began
  before the commit carries the old version and is never used.

Only a shared cache (Redis) keeps that promise across processes: SLOT_CACHE_SECONDS is 0
(off) without REDIS_URL, unless set. An entry is never filled from the read replica (a stale
replica would store a taken slot under a current version); a read there may still use one
filled from the primary. Cache errors fall back to the database: the cache can only save work.
"""

import logging
import uuid
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from appointments import availability
from appointments.serializers import SlotOutput
from medplatform.db_routing import reading_from_replica

logger = logging.getLogger(__name__)

EVERYTHING = "slots:v:all"
# Versions outlive entries; a version that is gone (evicted) only makes entries miss.
VERSION_SECONDS = 7 * 24 * 3600


def enabled() -> bool:
    return settings.SLOT_CACHE_SECONDS > 0


def _doctor_key(doctor_id) -> str:
    return f"slots:v:{doctor_id}"


def _entry_key(doctor_id, first_day: date, last_day: date) -> str:
    return f"slots:e:{doctor_id}:{first_day.isoformat()}:{last_day.isoformat()}"


def _versions(doctor_id, found: dict) -> tuple[str, str]:
    """The current (doctor, everything) versions, creating a missing one (add: a concurrent
    creator's value wins, and is read back)."""
    keys = (_doctor_key(doctor_id), EVERYTHING)
    missing = [key for key in keys if found.get(key) is None]
    for key in missing:
        cache.add(key, uuid.uuid4().hex, VERSION_SECONDS)
    if missing:
        found = {**found, **cache.get_many(missing)}
    return found.get(keys[0]), found.get(keys[1])


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
        found = cache.get_many([_doctor_key(doctor_id), EVERYTHING, entry_key])
        entry = found.get(entry_key)
        versions = (found.get(_doctor_key(doctor_id)), found.get(EVERYTHING))
        if entry is not None and None not in versions and entry[0] == versions:
            return _render(entry[1], now_us)
        versions = _versions(doctor_id, found)
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


def _bump(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, VERSION_SECONDS)
    except Exception as exc:  # noqa: BLE001 - never fail a committed write; entries expire anyway
        logger.error("slot cache versions not replaced (%s): entries expire within SLOT_CACHE_SECONDS", exc)


def bump_doctors(doctor_ids) -> None:
    """After the current transaction commits (at once outside one): every cached slot answer of
    these doctors is out of date."""
    if not enabled():
        return
    keys = sorted({_doctor_key(doctor_id) for doctor_id in doctor_ids})
    if keys:
        _bump_now_and_at_commit(keys)


def bump_everything() -> None:
    """As bump_doctors, for every doctor (a clinic's zone, notice or horizon, a doctor's status)."""
    if enabled():
        _bump_now_and_at_commit([EVERYTHING])


def _bump_now_and_at_commit(keys: list[str]) -> None:
    """Replace the versions now and again once the transaction commits. The commit's replacement
    is the one exactness needs; the one now keeps reads later in the same transaction (and in a
    test, whose transaction never commits) from using an entry stored before the write. An entry
    stored between the two, from a read of what was committed, is dropped by the second."""
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def _doctor_changed(sender, instance, **kwargs) -> None:
    bump_doctors([instance.pk])  # made inactive (404), or gone


def _clinic_changed(sender, instance, **kwargs) -> None:
    bump_everything()  # its zone, minimum notice or horizon


def connect() -> None:
    """Accounts owns doctors and clinics and knows nothing of this cache: listen to their saves."""
    from django.db.models.signals import post_delete, post_save

    from accounts.models import Clinic, Doctor

    post_save.connect(_doctor_changed, sender=Doctor, dispatch_uid="slot_cache_doctor_saved")
    post_delete.connect(_doctor_changed, sender=Doctor, dispatch_uid="slot_cache_doctor_deleted")
    post_save.connect(_clinic_changed, sender=Clinic, dispatch_uid="slot_cache_clinic_saved")
    post_delete.connect(_clinic_changed, sender=Clinic, dispatch_uid="slot_cache_clinic_deleted")
