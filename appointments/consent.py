"""The appointment_health_data consent's withdrawal cascade.

Other apps that keep data under the booking consent (the waitlist: entries and held offers) add
their part with `also_under_booking_consent`, from their ready(); a purpose has one owner in the
privacy registry, so their steps run here, first, inside the withdrawal's transaction."""

from collections.abc import Callable
from dataclasses import dataclass

from appointments import locks
from appointments.services import appointments_for_withdrawn_consent, bookings_cancelled_by_withdrawal
from privacy.models import ConsentEvent


@dataclass(frozen=True)
class BookingConsentStep:
    # fn(patient) -> counts for the audit entry; runs inside the withdrawal's transaction
    on_withdraw: Callable[..., dict]
    # fn(patient) -> rows still kept under the consent (0 once withdrawn)
    held_rows: Callable[..., int]
    # fn(patient) -> ids of the doctors whose availability on_withdraw may change
    doctors: Callable[..., list] = lambda patient: []


_steps: list[BookingConsentStep] = []


def also_under_booking_consent(step: BookingConsentStep) -> None:
    if step not in _steps:
        _steps.append(step)


def steps() -> list[BookingConsentStep]:
    return list(_steps)


def appointment_health_data_withdrawn(grant: ConsentEvent) -> dict:
    """Runs inside the withdrawal's transaction: other apps' steps, then future bookings
    cancelled and reasons erased."""
    counts: dict = {}
    # Every doctor whose time the cascades free, held before the first of them writes (appointments.locks).
    doctor_ids = set(bookings_cancelled_by_withdrawal(patient=grant.subject).values_list("doctor_id", flat=True))
    for step in _steps:
        doctor_ids.update(step.doctors(grant.subject))
    locks.hold_doctors(doctor_ids)
    for step in _steps:
        counts.update(step.on_withdraw(grant.subject))
    counts.update(appointments_for_withdrawn_consent(patient=grant.subject))
    return counts
