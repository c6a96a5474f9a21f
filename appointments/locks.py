"""What a write of a doctor's availability locks, named once (as saleor's lock_objects.py).

The doctor's row is the per-doctor lock. Every writer of a doctor's busy time or schedule (book,
cancel, reschedule, complete, no-show, release, time off, working hours, breaks, a withdrawal's
cancellations, the waitlist's holds passing on, the index's roll and rebuild) holds the rows of the
doctors it changes before its first write, in sorted id order, until its transaction ends:

- bookings of one doctor run one at a time, so each one's schedule read (taken after the lock)
  sees every booking committed before it, and the availability index can be kept from that same
  read (`availability_index.touch(..., schedule=...)`) instead of reading the schedule again;
- no writer waits for this lock while holding an uncommitted write another holder could wait for
  (a booking waiting in the exclusion constraint for a reschedule into its slot, the reschedule
  waiting for the booking's lock: the deadlock of an index lock taken after the write);
- the waitlist's queue lock (waitlist.locks) comes after it, whoever takes both.

`FOR NO KEY UPDATE` is enough (nobody changes a doctor's id) and leaves foreign-key checks of
other inserts (FOR KEY SHARE) free. Time off takes `FOR UPDATE`, as it always did. A writer whose
own statement locks the doctor's row already (the booking's `_hold_patient_and_doctor`, an
appointment locked with its doctor) says so with `doctors_held`; `availability_index` refuses to
write for a doctor not held in the current transaction (`check_held`), so a writer that forgets
fails its tests, in the embedded run too. SQLite runs one writer at a time: nothing is locked
there, but holds are still noted and checked.
"""

from collections.abc import Iterable

from django.db import connection, transaction

from accounts.models import Doctor

# FOR ... OF the doctor's table: what every availability writer takes.
ROW_LOCK = "NO KEY UPDATE"


class DoctorNotHeld(RuntimeError):
    pass


def _sorted_ids(doctor_ids: Iterable) -> list:
    return sorted(set(doctor_ids), key=str)


def hold_doctors(doctor_ids: Iterable, *, exclusive: bool = False) -> None:
    """Lock these doctors' rows until the transaction ends (one statement, in id order; none for
    doctors this transaction holds already)."""
    conn = transaction.get_connection()
    held = set().union(*(ids for _block, ids in _live_holds(conn))) if not exclusive else set()
    ids = [doctor_id for doctor_id in _sorted_ids(doctor_ids) if str(doctor_id) not in held]
    if not ids:
        return
    if connection.vendor == "postgresql":
        mode = "UPDATE" if exclusive else ROW_LOCK
        table = Doctor._meta.db_table
        pk = Doctor._meta.pk
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE id = ANY(%s) ORDER BY id FOR {mode}",  # noqa: S608 - table name
                [[pk.get_db_prep_value(doctor_id, connection) for doctor_id in ids]],
            )
    doctors_held(ids)


def doctors_held(doctor_ids: Iterable) -> None:
    """Note that the caller's own statement has just locked these doctors' rows (FOR UPDATE or
    FOR NO KEY UPDATE OF the doctor), for `check_held`."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise DoctorNotHeld("a doctor's availability lock belongs inside the writing transaction")
    # Kept with the atomic block that took it: a lock taken in a savepoint rolled back is gone,
    # and so is its note once that block has left the stack.
    holds = _live_holds(conn)
    holds.append((conn.atomic_blocks[-1], {str(doctor_id) for doctor_id in doctor_ids}))
    conn._doctors_held = holds


def check_held(doctor_ids: Iterable) -> None:
    """Raise DoctorNotHeld unless every one of these doctors was held in this transaction."""
    conn = transaction.get_connection()
    held = set().union(*(ids for _block, ids in _live_holds(conn)))
    missing = {str(doctor_id) for doctor_id in doctor_ids} - held
    if missing:
        raise DoctorNotHeld(
            f"doctor(s) {sorted(missing)} changed without appointments.locks.hold_doctors at the transaction's start"
        )


def _live_holds(conn) -> list:
    blocks = conn.atomic_blocks
    return [(block, ids) for block, ids in getattr(conn, "_doctors_held", []) if any(b is block for b in blocks)]
