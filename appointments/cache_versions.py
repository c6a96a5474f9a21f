"""Versions of cached answers: the one rule that keeps the slot cache (appointments/slot_cache.py)
and the search cache (appointments/search_cache.py) exact against writes.

A cached entry remembers the versions it was computed under, read *before* its queries, and is
used only while they are current. A write that changes what an entry shows replaces the versions
it depends on twice: at once, so reads later in the same transaction (and in a test, whose
transaction never commits) miss; and once the transaction commits, before the writer's answer is
sent, so that an entry computed from a read that began before the commit carries a version that
is already gone. The versions:

- EVERYTHING: clinics (zone, notice, horizon, name, city), a rebuild of the availability index;
- one per doctor: that doctor's free time (availability_index.touch / refresh_doctor) and row;
- ANY_DOCTOR: replaced with every doctor's, so a search (whose doctors are known only after its
  queries) can tell whether any doctor's changed while it read;
- SEARCH: what doctor search lists and shows apart from free time (doctors, their names,
  specialties, clinic memberships, ratings) and index changes not told per day (working hours,
  the daily roll);
- one per local day: any doctor's free time that day (availability_index.touch).

Only a shared cache (Redis) keeps the promise across processes; both caches are off without one
unless set. Cache errors never fail a write: entries expire within their cache's seconds anyway.
"""

import logging
import uuid
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

EVERYTHING = "slots:v:all"
ANY_DOCTOR = "slots:v:any"
SEARCH = "search:v:all"
# Versions outlive entries; a version that is gone (evicted) only makes entries miss.
VERSION_SECONDS = 7 * 24 * 3600


def enabled() -> bool:
    return settings.SLOT_CACHE_SECONDS > 0 or settings.SEARCH_CACHE_SECONDS > 0


def doctor_key(doctor_id) -> str:
    return f"slots:v:{doctor_id}"


def day_key(day: date) -> str:
    return f"search:v:day:{day.isoformat()}"


def current(keys: list[str], found: dict) -> dict:
    """{key: version} for `keys`, from `found` (a get_many already made) where present, creating
    a missing one (add: a concurrent creator's value wins, and is read back). Raises on cache
    errors: the caller falls back to the database."""
    missing = [key for key in keys if found.get(key) is None]
    for key in missing:
        cache.add(key, uuid.uuid4().hex, VERSION_SECONDS)
    if missing:
        found = {**found, **cache.get_many(missing)}
    return {key: found.get(key) for key in keys}


def _bump(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, VERSION_SECONDS)
    except Exception as exc:  # noqa: BLE001 - never fail a committed write; entries expire anyway
        logger.error("cache versions not replaced (%s): entries expire within their cache's seconds", exc)


def _bump_now_and_at_commit(keys: list[str]) -> None:
    """Replace the versions now and again once the transaction commits (see the module docstring).
    An entry stored between the two, from a read of what was committed, is dropped by the second.

    Every key a transaction bumps is replaced again by one call after its commit (a booking bumps
    its doctor's, the day's and ANY_DOCTOR: one round trip to the cache, not one per bump). A
    savepoint rolled back may leave its keys in that call: an extra replacement only makes entries
    miss."""
    _bump(keys)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _bump(keys)  # as on_commit outside a transaction: at once
        return
    flush = getattr(connection, "_cache_versions_flush", None)
    # Registered in this transaction and not dropped with a rolled-back savepoint: add to it.
    if flush is None or not any(entry[1] is flush for entry in connection.run_on_commit):
        pending: set[str] = set()

        def flush() -> None:
            _bump(sorted(pending))

        flush.pending = pending
        connection._cache_versions_flush = flush
        transaction.on_commit(flush)
    flush.pending.update(keys)


def bump_doctors(doctor_ids, *, days=()) -> None:
    """After the current transaction commits (at once outside one): every cached answer showing
    these doctors' free time is out of date, and with `days` (local days), every search filtered
    on one of them (`available_on`): any doctor may now be free that day, or not."""
    if not enabled():
        return
    keys = sorted({doctor_key(doctor_id) for doctor_id in doctor_ids})
    if keys:
        _bump_now_and_at_commit([*keys, ANY_DOCTOR, *sorted({day_key(day) for day in days})])


def bump_search() -> None:
    """As bump_doctors, for every cached search answer."""
    if enabled():
        _bump_now_and_at_commit([SEARCH])


def bump_everything() -> None:
    """As bump_doctors, for every cached answer (a clinic's zone, notice or horizon; a rebuild)."""
    if enabled():
        _bump_now_and_at_commit([EVERYTHING])


def _doctor_changed(sender, instance, **kwargs) -> None:
    bump_doctors([instance.pk])  # made inactive (404), or gone
    bump_search()  # appears, goes, or shows another title, specialty or rating


def _clinic_changed(sender, instance, **kwargs) -> None:
    bump_everything()  # its zone, minimum notice, horizon, name or city


def _specialty_changed(sender, instance, **kwargs) -> None:
    bump_search()  # its names, shown and matched


def _user_changed(sender, instance, update_fields=None, **kwargs) -> None:
    from accounts.models import User

    names = {"first_name", "last_name", "name_key"}
    if instance.role == User.Role.DOCTOR and (update_fields is None or names & set(update_fields)):
        bump_search()  # a doctor's name, shown, matched and sorted on


def _memberships_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        bump_search()  # a doctor's clinics: shown, and matched by city and clinic


def connect() -> None:
    """Accounts owns doctors, clinics and specialties and knows nothing of these caches: listen to
    their saves. Writes that go around save() (reviews' rating update) call bump_search themselves."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accounts.models import Clinic, Doctor, Specialty, User

    for model, receiver in ((Doctor, _doctor_changed), (Clinic, _clinic_changed), (Specialty, _specialty_changed)):
        name = model.__name__.lower()
        post_save.connect(receiver, sender=model, dispatch_uid=f"cache_versions_{name}_saved")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"cache_versions_{name}_deleted")
    post_save.connect(_user_changed, sender=User, dispatch_uid="cache_versions_user_saved")
    m2m_changed.connect(
        _memberships_changed, sender=Doctor.clinics.through, dispatch_uid="cache_versions_doctor_clinics_changed"
    )
