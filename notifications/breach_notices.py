"""Notices to the people affected by a personal-data breach (KVKK Art. 12(5)): one neutral
message per person through the outbox. The body names no data and no breach details; the event key
`breach:<id>` makes a second run for the same breach add nothing."""

from django.db import transaction

from accounts.models import User
from notifications.models import Kind
from notifications.services import notification_enqueue
from privacy.breaches import affected_patients
from privacy.models import BreachRecord
from privacy.services import audit_record


def breach_notices_create(*, breach: BreachRecord, actor: User | None = None) -> tuple[list[User], int]:
    """Queue the notices of `breach` to every affected person whose account still exists (an erased
    account has no address left). Returns those people and the number of outbox rows written."""
    people = [person for person in affected_patients(breach=breach) if person.is_active]
    rows = 0
    with transaction.atomic():
        for person in people:
            notices = notification_enqueue(
                recipient=person, kind=Kind.BREACH_NOTICE, event_key=f"breach:{breach.pk}", context={}
            )
            rows += len(notices)
        audit_record(
            actor=actor,
            action="breach_notices_prepared",
            patient=None,
            metadata={"breach": breach.pk, "people": len(people), "notifications": rows},
        )
    return people, rows
