"""Conformance: for every consent purpose, a withdrawal racing a write under it leaves nothing.

Driven by the registry (privacy.contract): every registered purpose must have its writes listed
in WRITES below, or be named in GRANT_ONLY with the reason, else the first test fails. Each race:
grant, start the write and hold it in the `consent_held` signal (just after its consent check),
withdraw from another connection, wait until the withdrawal is blocked on the held grant (or has
finished, which is the bug this catches), release. Afterwards the purpose's `held_rows` is 0 and
the write either committed (the cascade then removed it) or failed with consent_required.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_reschedule, appointment_update_details
from health_profiles.services import entry_create, entry_update
from medplatform.errors import ConsentRequired
from notifications.models import Kind
from notifications.services import notification_enqueue
from privacy.contract import contracts, purpose_rules
from privacy.guard import HoldOutsideTransaction, consent_held, consent_hold
from privacy.models import ConsentEvent, Purpose
from privacy.services import consent_active_grants, consent_withdraw
from reviews.services import review_create
from tests.appointments.conftest import at, grant_booking_consent, working_day
from tests.factories import UserFactory
from tests.health_profiles.scenario import ENTRY_VALUES, add_entry, grant, grant_storage, share_with
from tests.notifications.conftest import booking_context
from tests.reviews.factories import past_appointment
from waitlist.services import waitlist_join

RACES_PER_WRITE = 20


@dataclass(frozen=True)
class Write:
    """`prepare(patient, doctor, n)` gives the consent and whatever the write needs, and returns
    the write itself (run in another thread, on its own connection)."""

    name: str
    purpose: str
    prepare: Callable[..., Callable[[], object]]


def _slot(n: int, hour: int = 9):
    # a distinct weekday slot per race, inside the 90-day horizon
    return at(working_day(days_ahead=7 + n % 60), hour, 30 * (n // 60))


def _book(patient, doctor, n):
    grant_booking_consent(patient)
    return lambda: appointment_book(patient=patient, doctor=doctor, start=_slot(n), visit_reason="baş ağrısı-ZQX")


def _reschedule(patient, doctor, n):
    grant_booking_consent(patient)
    booked, _ = appointment_book(patient=patient, doctor=doctor, start=_slot(n), visit_reason="baş ağrısı-ZQX")
    return lambda: appointment_reschedule(appointment=booked, actor=patient, start=_slot(n, hour=14))


def _edit_reason(patient, doctor, n):
    grant_booking_consent(patient)
    booked, _ = appointment_book(patient=patient, doctor=doctor, start=_slot(n), visit_reason="x")
    return lambda: appointment_update_details(appointment=booked, actor=patient, visit_reason="göğüs ağrısı-ZQX")


def _waitlist_join(patient, doctor, n):
    grant_booking_consent(patient)
    day = working_day(days_ahead=7 + n % 60)
    return lambda: waitlist_join(actor=patient, patient=patient, doctor=doctor, first_day=day, last_day=day)


def _entry_create(patient, doctor, n):
    grant_storage(patient)
    return lambda: entry_create(patient=patient, category="allergy", values=ENTRY_VALUES["allergy"])


def _entry_update(patient, doctor, n):
    grant_storage(patient)
    entry = add_entry(patient, "medication")
    return lambda: entry_update(entry=entry, values={"dose": "1000mg-ZQX"})


def _share(patient, doctor, n):
    grant_storage(patient)
    return lambda: share_with(patient, doctor, categories=["allergy"])


def _review(patient, doctor, n):
    grant(patient, Purpose.REVIEW_PUBLICATION)
    visit = past_appointment(patient=patient, doctor=doctor, ended_ago=timedelta(days=1, minutes=n))
    return lambda: review_create(patient=patient, appointment_id=visit.id, rating=4, comment="iyi", publish=True)


def _marketing(patient, doctor, n):
    grant(patient, Purpose.MARKETING_MESSAGES)

    def write():
        with transaction.atomic():
            return notification_enqueue(
                recipient=patient, kind=Kind.MARKETING, event_key=f"campaign:{n}", context=booking_context()
            )

    return write


WRITES = [
    Write("appointment_book", Purpose.APPOINTMENT_HEALTH_DATA, _book),
    Write("appointment_reschedule", Purpose.APPOINTMENT_HEALTH_DATA, _reschedule),
    Write("appointment_update_details", Purpose.APPOINTMENT_HEALTH_DATA, _edit_reason),
    Write("waitlist_join", Purpose.APPOINTMENT_HEALTH_DATA, _waitlist_join),
    Write("entry_create", Purpose.HEALTH_PROFILE_STORAGE, _entry_create),
    Write("entry_update", Purpose.HEALTH_PROFILE_STORAGE, _entry_update),
    Write("share_granted", Purpose.HEALTH_PROFILE_STORAGE, _share),
    Write("review_create_published", Purpose.REVIEW_PUBLICATION, _review),
    Write("marketing_enqueue", Purpose.MARKETING_MESSAGES, _marketing),
]
# Purposes whose only write is made by their own grant, in the grant's transaction, so no write
# can race their withdrawal (a share's ShareGrant row is created by `on_grant`).
GRANT_ONLY = {Purpose.HEALTH_PROFILE_SHARE: "the ShareGrant is written by the grant itself"}


def registered_purposes() -> set[str]:
    return {purpose for contract in contracts() for purpose in contract.purposes}


def test_every_registered_purpose_has_its_writes_raced_or_is_grant_only():
    raced = {write.purpose for write in WRITES}

    assert registered_purposes() == set(Purpose.values)
    assert registered_purposes() - raced == set(GRANT_ONLY)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hold_outside_a_transaction_is_a_programming_error(patient_ayse):
    with pytest.raises(HoldOutsideTransaction):
        consent_hold(subject=patient_ayse, purpose=Purpose.APPOINTMENT_HEALTH_DATA)


@pytest.mark.django_db
def test_a_hold_without_consent_names_the_missing_purpose(patient_ayse):
    with pytest.raises(ConsentRequired) as refused, transaction.atomic():
        consent_hold(subject=patient_ayse, purpose=Purpose.REVIEW_PUBLICATION)

    assert refused.value.extra == {"purpose": Purpose.REVIEW_PUBLICATION}


def _withdrawal_blocked_or_done(withdrawer: threading.Thread, deadline: float) -> str:
    """Wait, without a fixed sleep, for the observable outcome: the withdrawal waits on a lock
    (the hold works) or it has finished (nothing held it)."""
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            if not withdrawer.is_alive():
                return "finished"
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return "blocked"
            time.sleep(0.005)  # a poll of an observable state, not a guess at timing
    raise AssertionError("the withdrawal neither blocked nor finished")


def race(write: Write, patient, doctor, n: int) -> dict:
    run = write.prepare(patient, doctor, n)
    grant_id = consent_active_grants(subject=patient, purpose=write.purpose).get().id
    held, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def pause_at_hold(sender, subject, purpose, **kwargs):
        if threading.current_thread() is writer and subject.pk == patient.pk and purpose == write.purpose:
            held.set()
            release.wait(timeout=60)

    def write_it():
        try:
            run()
            outcome["write"] = "committed"
        except ConsentRequired:
            outcome["write"] = "consent_required"
        except Exception as exc:  # recorded: the assertion shows it instead of a hang
            outcome["write"] = repr(exc)
        finally:
            held.set()
            connection.close()

    def withdraw_it():
        try:
            consent_withdraw(subject=patient, grant_id=grant_id)
            outcome["withdrawal"] = "done"
        except Exception as exc:
            outcome["withdrawal"] = repr(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write_it)
    withdrawer = threading.Thread(target=withdraw_it)
    consent_held.connect(pause_at_hold, weak=False)
    try:
        writer.start()
        assert held.wait(timeout=60), "the write never reached its consent hold"
        withdrawer.start()
        outcome["withdrawal_while_held"] = _withdrawal_blocked_or_done(withdrawer, time.monotonic() + 60)
        release.set()
        writer.join(timeout=60)
        withdrawer.join(timeout=60)
    finally:
        release.set()
        consent_held.disconnect(pause_at_hold)
    outcome["held_rows"] = purpose_rules(write.purpose).held_rows(ConsentEvent.objects.get(pk=grant_id))
    return outcome


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
def test_a_withdrawal_racing_a_write_leaves_nothing_under_the_withdrawn_consent(write, doctor_x, clinic_x):
    from appointments.demo import create_demo_schedule

    create_demo_schedule(doctor_x, clinic_x)
    outcomes = []
    for n in range(RACES_PER_WRITE):
        patient = UserFactory()
        outcome = race(write, patient, doctor_x, n)
        outcomes.append(outcome)
        assert outcome["withdrawal_while_held"] == "blocked", outcome
        assert outcome["withdrawal"] == "done", outcome
        assert outcome["write"] in {"committed", "consent_required"}, outcome
        assert outcome["held_rows"] == 0, outcome
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED, visit_reason__isnull=False).exists()
