"""Per-person data keys for envelope encryption (docs/encryption.md).

`medplatform.encryption` asks here for the live data key of a person and scope when it writes a
value (`active_data_key`, made on first use) and for a key by id when it reads one
(`unwrapped_data_key`). `data_keys_destroy` is crypto-shredding: the wrapped key is overwritten
with NULL and the row stamped, in the caller's transaction, so every copy of the values under it
(backups included) can no longer be decrypted with the live keys.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from medplatform.encryption import (
    DataKeyDestroyed,
    forget_data_keys,
    new_data_key,
    remember_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from privacy.models import PatientDataKey

SCOPES = PatientDataKey.Scope

# (patient_id, scope) -> (id, wrapped key) or None: the live key as the writer's own statement read
# it, inside the writer's transaction (`live_key_read`).
_read_by_writer: ContextVar[dict | None] = ContextVar("data_keys_read_by_writer", default=None)


def live_key(patient_id, scope: str) -> dict[str, Subquery]:
    """Annotations that read the live data key of (patient, scope) in a statement the writer sends
    anyway (`data_key_id`, `data_key_wrapped`: NULL when there is none yet); hand the values to
    `live_key_read` around the save that encrypts."""
    # At most one live key per (patient, scope) (a partial unique index): both read the same row.
    rows = PatientDataKey.objects.filter(patient_id=patient_id, scope=scope, destroyed_at__isnull=True).order_by()
    return {
        "data_key_id": Subquery(rows.values("id")[:1]),
        "data_key_wrapped": Subquery(rows.values("wrapped_key")[:1]),
    }


@contextmanager
def live_key_read(patient_id, scope: str, key_id, wrapped) -> Iterator[None]:
    """While inside, `active_data_key(patient_id, scope)` takes this row (read by the caller in its
    transaction, after the locks that order it against an erasure) instead of reading it again:
    (key_id, wrapped), or None for both when the patient has no live key yet (it is made at once)."""
    known = dict(_read_by_writer.get() or {})
    known[(patient_id, scope)] = None if key_id is None else (key_id, bytes(wrapped))
    token = _read_by_writer.set(known)
    try:
        yield
    finally:
        _read_by_writer.reset(token)


def active_data_key(patient_id, scope: str) -> tuple[uuid.UUID, bytes]:
    """The live data key of (patient, scope), made and wrapped under CRYPTOGRAPHY_KEY on first use.

    One query when the key exists, two the first time (the INSERT ... ON CONFLICT DO NOTHING needs
    no savepoint; a key made at the same moment by another transaction wins and is read instead)."""
    if scope not in SCOPES.values:
        raise ValueError(f"unknown data key scope {scope!r}")
    known = _read_by_writer.get() or {}
    for attempt in range(2):
        if attempt == 0 and (patient_id, scope) in known:
            row = known[(patient_id, scope)]  # read by the writer's own statement (`live_key_read`)
        else:
            row = (
                PatientDataKey.objects.filter(patient_id=patient_id, scope=scope, destroyed_at__isnull=True)
                .values_list("id", "wrapped_key")
                .first()
            )
        if row is not None:
            key_id, wrapped = row
            data_key = unwrap_data_key(key_id, bytes(wrapped))
            remember_data_key(key_id, data_key)
            return key_id, data_key
        key_id, data_key = uuid.uuid4(), new_data_key()
        if _insert_unless_one_is_live(key_id, patient_id, scope, wrap_data_key(key_id, data_key)):
            remember_data_key(key_id, data_key)
            return key_id, data_key
    raise RuntimeError("could not make or find a data key")


def _insert_unless_one_is_live(key_id: uuid.UUID, patient_id, scope: str, wrapped: bytes) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite): True when this row went in."""
    meta = PatientDataKey._meta
    fields = [meta.get_field(name) for name in ("id", "patient", "scope", "wrapped_key", "created_at")]
    values = [key_id, patient_id, scope, wrapped, timezone.now()]
    quote = connection.ops.quote_name
    params = [f.get_db_prep_save(value, connection) for f, value in zip(fields, values, strict=True)]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def unwrapped_data_key(key_id: uuid.UUID) -> bytes:
    row = PatientDataKey.objects.filter(pk=key_id).values_list("wrapped_key", flat=True).first()
    if row is None:
        raise DataKeyDestroyed("no such data key here (destroyed, or a value from elsewhere)")
    return unwrap_data_key(key_id, bytes(row))


def data_keys_destroy(*, patient, scopes=None) -> int:
    """Destroy the patient's live data keys (every scope, or those named): their values, wherever
    a copy of them is kept, can no longer be decrypted. Returns the number of keys destroyed."""
    keys = PatientDataKey.objects.filter(patient=patient, destroyed_at__isnull=True)
    if scopes is not None:
        keys = keys.filter(scope__in=list(scopes))
    ids = list(keys.values_list("id", flat=True))
    destroyed = PatientDataKey.objects.filter(pk__in=ids).update(wrapped_key=None, destroyed_at=timezone.now())
    forget_data_keys(ids)
    transaction.on_commit(lambda: forget_data_keys(ids))
    return destroyed
