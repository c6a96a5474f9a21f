"""What the waitlist locks to keep its queues fair under concurrency, named once.

`queue_lock()`: one PostgreSQL transaction-level advisory lock for every queue. Whatever hands out,
passes on or withdraws offers takes it first, so two of them never pick the same patient or the
same slot (the partial unique indexes and the exclusion constraint are the backstop) and each one
reads the offers the others committed. It is taken only when there is someone to offer to, and
held for the rest of the transaction (the allocation is short). Entries are then locked FOR
UPDATE SKIP LOCKED in queue order: an entry locked by its patient leaving, claiming or withdrawing
consent is skipped rather than waited for, so no lock cycle can form with those paths (they take
the consent, then the entry, and never wait for this lock while holding an entry another
allocation could want first; see docs/waitlist.md). SQLite runs one writer at a time: nothing
to take there.
"""

from django.db import connection

# pg_advisory_xact_lock(namespace, key): this module's lock. Whoever also holds a doctor's
# availability lock (appointments.locks: the doctor's row) takes that one first.
LOCK_NAMESPACE = 0x57414954  # "WAIT"
QUEUES = 1


def queue_lock() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, QUEUES])
