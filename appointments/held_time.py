"""Time held for one patient outside the appointments table (a waitlist offer): busy for everybody
else, free for that patient.

Another app registers a `HeldTime` once from its `ready()`; appointments never imports it. Slot
computation (selectors.Schedules, so the slot list, search's availability index and the booking
and rescheduling checks) counts the rows `rows(doctor_ids, start, end, for_patient)` returns as
busy time, in the same UNION ALL query as time off and bookings. `constraints` names the database
errors (constraint or trigger names) that refuse a booking over held time, which the booking
services turn into slot_unavailable like their own exclusion constraints.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class HeldTime:
    # fn(doctor_ids, *, start, end, for_patient) -> a queryset with doctor_id, start and end fields
    rows: Callable[..., QuerySet]
    constraints: frozenset[str] = frozenset()


_registry: list[HeldTime] = []


def register(held: HeldTime) -> None:
    if held not in _registry:
        _registry.append(held)


def held_rows(doctor_ids, *, start, end, for_patient=None) -> list[QuerySet]:
    """Every registered holder's rows of `doctor_ids` overlapping [start, end) that are busy for
    `for_patient` (for anybody when None)."""
    return [held.rows(doctor_ids, start=start, end=end, for_patient=for_patient) for held in _registry]


def constraint_names() -> frozenset[str]:
    return frozenset(name for held in _registry for name in held.constraints)
