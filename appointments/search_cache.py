"""Public doctor search answers, cached exactly: versions against writes, a limit against the clock.

`GET /api/v1/doctors/` answers the same for everyone who sends the same validated filters, page,
page size and language (specialty names are translated); the links of the envelope are absolute
URLs, so what is cached is the count and the rendered rows, and the envelope is built per request.
`ordering=next_available` is not cached.

Writes: an entry remembers the versions it depends on (appointments/cache_versions.py, the slot
cache's): EVERYTHING and SEARCH (clinics; doctors, names, specialties, memberships, ratings),
the day's for `available_on=D` (whose membership depends on every doctor's free time that day),
all read before the queries, and the versions of the doctors on the page (their next_available).
Those are known only after the queries, so they are read after them, and the entry is stored
only if ANY_DOCTOR, read before the queries too, has not changed meanwhile: no doctor's free time
changed while the answer was read, or that change's second replacement, at its commit, is still
to come and drops the entry. A hit: one round trip for the entry and the fixed versions, one for
the page doctors' versions, or none once this process has used the entry (it remembers which
doctors' versions to read along with it).

The clock: next_available and available_on depend on `now` through each clinic's minimum notice
and horizon, so the answer is computed at one `now` and stored with the interval [now, until]
in which the clock cannot change it, and used only inside it. With N a shown next_available,
`notice` the longest minimum notice and `horizon` the shortest horizon of all clinics:

- a shown N stays the first bookable slot until now + its clinic's notice passes it: until is
  at most N - notice. A slot earlier than N can only roll in through a horizon, so N must lie
  within now + horizon when computed, or the answer is not stored;
- a page showing a doctor without a next_available is not stored: a slot may roll into the
  horizon at any moment, and when would cost a query to know;
- `available_on=D`: membership is fixed while the whole day D in every zone (UTC-12..UTC+14)
  lies after now + notice and before now + horizon: stored only if its end is within now +
  horizon when computed, and until is at most its start - notice. An empty page (no clinic's
  limits read) is not stored.

SEARCH_CACHE_SECONDS caps an entry's life (0, off, without REDIS_URL unless set). Never filled
from the read replica; cache errors fall back to the database.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from appointments import availability, cache_versions
from medplatform.db_routing import reading_from_replica

logger = logging.getLogger(__name__)

# Per process, the page doctors' version keys of the entries it has used, read in the same round
# trip as the entry next time (a guess: checked against the entry's own list).
_doctor_keys_seen: dict[str, frozenset] = {}
SEEN_ENTRIES = 10_000
FOREVER = 2**62  # microseconds: no limit from the clock
# The widest offsets a local day can have from UTC.
ZONE_AHEAD = timedelta(hours=14)
ZONE_BEHIND = timedelta(hours=12)


@dataclass
class SearchPage:
    """One computed page: what is sent, and what the clock limit is drawn from."""

    count: int
    results: list[dict]
    next_available: dict  # {doctor_id: first bookable start} of the page's doctors
    doctor_ids: list
    longest_notice_minutes: int | None  # over all clinics; None when the page is empty
    shortest_horizon_days: int | None


def enabled() -> bool:
    return settings.SEARCH_CACHE_SECONDS > 0


def _entry_key(filters: dict, number: int, page_size: int) -> str:
    parts = repr((sorted((name, str(value)) for name, value in filters.items()), number, page_size, get_language()))
    return "search:e:" + hashlib.sha256(parts.encode()).hexdigest()


def cached_page(
    *, filters: dict, number: int | None, page_size: int, compute: Callable[[datetime], SearchPage]
) -> tuple[int, list[dict]]:
    """(count, rendered rows) of the page `number` (None: not cacheable, such as `last`).
    `compute(now)` reads the page at `now`; it runs on a miss only."""
    now = timezone.now()
    if not enabled() or number is None or filters.get("ordering") == "next_available":
        page = compute(now)
        return page.count, page.results
    entry_key = _entry_key(filters, number, page_size)
    available_on = filters.get("available_on")
    fixed_keys = [cache_versions.EVERYTHING, cache_versions.SEARCH]
    if available_on:
        fixed_keys.append(cache_versions.day_key(available_on))
    now_us = availability.micros(now)
    try:
        found = cache.get_many([entry_key, *fixed_keys, *_doctor_keys_seen.get(entry_key, ())])
        entry = found.get(entry_key)
        if entry is not None and _usable(entry_key, entry, [found.get(key) for key in fixed_keys], found, now_us):
            return entry["count"], entry["results"]
        before = cache_versions.current([*fixed_keys, cache_versions.ANY_DOCTOR], found)
    except Exception as exc:  # noqa: BLE001 - the cache only saves work; the database answers
        logger.warning("search cache unavailable (%s): reading the database", type(exc).__name__)
        page = compute(now)
        return page.count, page.results
    page = compute(now)
    until = _valid_until(page, available_on, now)
    if until is not None and not reading_from_replica():
        try:
            _store(entry_key, page, before, fixed_keys, now_us, until)
        except Exception as exc:  # noqa: BLE001
            logger.warning("search cache unavailable (%s): entry not stored", type(exc).__name__)
    return page.count, page.results


def _usable(entry_key: str, entry: dict, fixed_versions: list, found: dict, now_us: int) -> bool:
    if None in fixed_versions or entry["fixed"] != fixed_versions:
        return False
    if not entry["from"] <= now_us <= entry["until"]:
        return False
    doctors = entry["doctors"]
    if not doctors.keys() <= _doctor_keys_seen.get(entry_key, frozenset()):
        # Not read with the entry (this process has not seen it yet): a second round trip.
        if len(_doctor_keys_seen) >= SEEN_ENTRIES:
            _doctor_keys_seen.clear()
        _doctor_keys_seen[entry_key] = frozenset(doctors)
        found = cache.get_many(list(doctors))
    return all(found.get(key) == version for key, version in doctors.items())


def _store(entry_key: str, page: SearchPage, before: dict, fixed_keys: list, now_us: int, until: int) -> None:
    doctor_keys = [cache_versions.doctor_key(doctor_id) for doctor_id in page.doctor_ids]
    after = cache_versions.current(
        [*doctor_keys, cache_versions.ANY_DOCTOR], cache.get_many([*doctor_keys, cache_versions.ANY_DOCTOR])
    )
    if after.pop(cache_versions.ANY_DOCTOR) != before[cache_versions.ANY_DOCTOR] or None in after.values():
        return  # a doctor's free time changed while the page was read
    fixed_versions = [before[key] for key in fixed_keys]
    if None in fixed_versions:
        return
    seconds = settings.SEARCH_CACHE_SECONDS
    if until != FOREVER:
        seconds = max(1, min(seconds, (until - now_us) // 1_000_000 + 1))
    entry = {
        "fixed": fixed_versions,
        "doctors": after,
        "from": now_us,
        "until": until,
        "count": page.count,
        "results": page.results,
    }
    cache.set(entry_key, entry, seconds)
    _doctor_keys_seen[entry_key] = frozenset(after)


def _valid_until(page: SearchPage, available_on: date | None, now: datetime) -> int | None:
    """The last instant (microseconds) at which the clock leaves the page as computed at `now`;
    None: do not store it (see the module docstring)."""
    until = FOREVER
    if not page.doctor_ids and not available_on:
        return until
    notice, horizon = page.longest_notice_minutes, page.shortest_horizon_days
    if notice is None or horizon is None:
        return None
    notice_span, horizon_end = timedelta(minutes=notice), now + timedelta(days=horizon)
    for doctor_id in page.doctor_ids:
        first = page.next_available.get(doctor_id)
        if first is None or first > horizon_end:
            return None
        until = min(until, availability.micros(first - notice_span))
    if available_on:
        day_start = datetime.combine(available_on, time(), tzinfo=UTC) - ZONE_AHEAD
        day_end = datetime.combine(available_on + timedelta(days=1), time(), tzinfo=UTC) + ZONE_BEHIND
        if day_end > horizon_end:
            return None
        until = min(until, availability.micros(day_start - notice_span))
    return until if until >= availability.micros(now) else None
