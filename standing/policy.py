"""The no-show rule itself, in one place: when strikes block online booking, and until when.

A clinic's NoShowPolicy, or the NO_SHOW_* settings: `strikes_to_block` strikes whose times all
fall within NO_SHOW_WINDOW_DAYS of each other block the patient's online booking at that clinic
for `block_days` from the last of them. The booking asks `check_booking_allowed` with the block
it read in its own clinic query (standing.selectors.booking_block); nothing else repeats the rule.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from standing.errors import BookingBlocked

# What a clinic may set for itself (standing.services.policy_set).
MAX_STRIKES_TO_BLOCK = 20
MAX_BLOCK_DAYS = 365


@dataclass(frozen=True)
class Policy:
    strikes_to_block: int
    block: timedelta
    window: timedelta


def default_strikes_to_block() -> int:
    return settings.NO_SHOW_STRIKES_TO_BLOCK


def default_block_days() -> int:
    return settings.NO_SHOW_BLOCK_DAYS


def _policy(strikes_to_block: int, block_days: int) -> Policy:
    window = timedelta(days=settings.NO_SHOW_WINDOW_DAYS)
    return Policy(strikes_to_block=strikes_to_block, block=timedelta(days=block_days), window=window)


def policies_for(clinic_ids) -> dict:
    """clinic id -> its Policy, in one query (the settings for a clinic without its own)."""
    from standing.models import NoShowPolicy

    clinic_ids = list(clinic_ids)
    own = {
        clinic_id: _policy(strikes, days)
        for clinic_id, strikes, days in NoShowPolicy.objects.filter(clinic_id__in=clinic_ids).values_list(
            "clinic_id", "strikes_to_block", "block_days"
        )
    }
    default = _policy(settings.NO_SHOW_STRIKES_TO_BLOCK, settings.NO_SHOW_BLOCK_DAYS)
    return {clinic_id: own.get(clinic_id, default) for clinic_id in clinic_ids}


def policy_for(clinic_id) -> Policy:
    return policies_for([clinic_id])[clinic_id]


def block_end(strike_times: Sequence[datetime], policy: Policy) -> datetime | None:
    """The latest end of a block the counting strikes (their times) earn, or None."""
    times = sorted(strike_times)
    n = policy.strikes_to_block
    ends = [times[i] + policy.block for i in range(n - 1, len(times)) if times[i] - times[i - n + 1] < policy.window]
    return max(ends, default=None)


def check_booking_allowed(clinic) -> None:
    """Refuse a new online booking while the patient is blocked at `clinic`, a Clinic read with the
    `no_show_blocked_until` annotation (standing.selectors.booking_block)."""
    until = clinic.no_show_blocked_until
    if until is not None:
        raise BookingBlocked(until=until, timezone_name=clinic.timezone)
