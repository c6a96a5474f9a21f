"""The privacy guard's two primitives (DESIGN.md, "The privacy guard").

- `consent_hold`: every write under a consent calls it inside its transaction. It locks the
  grants in force, so a withdrawal (which locks its grant first, `consent_withdraw`) either waits
  for the write to commit and its cascade then removes what was written, or the write sees the
  withdrawal and fails with `consent_required`. Never check consent without holding it.
- `sensitive_read`: called under every selector or service that hands a visit reason or
  health-profile content to anyone but the patient; it writes the audit entry the patient sees in
  their access log. API views and portal pages never audit on their own.
"""

import datetime
import functools
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Doctor, User
from medplatform.errors import ConsentRequired
from medplatform.prepared_queries import PreparedQuery
from privacy.context import SYSTEM, ActContext
from privacy.models import AuditEntry, ConsentEvent
from privacy.services import audit_record, consent_active_grants

# Sent once a hold is taken, inside the writer's transaction, with `subject`, `purpose`, `grants`.
# An observation point (the conformance tests pause a write here with a barrier); receivers must
# not write.
consent_held = Signal()


class HoldOutsideTransaction(RuntimeError):
    pass


def consent_hold(*, subject: User, purpose: str, scope: Doctor | None = None) -> list[ConsentEvent]:
    """Lock the subject's grants in force for `purpose` (and `scope`, a doctor) until the caller's
    transaction ends; raise ConsentRequired (naming the purpose) when there is none."""
    if not transaction.get_connection().in_atomic_block:
        raise HoldOutsideTransaction("consent_hold must run inside the writing transaction")
    lock, look = _hold_queries(purpose)
    values = {"subject_id": subject.pk, "now": timezone.now(), "doctor_id": None if scope is None else scope.pk}
    # FOR UPDATE waits for a withdrawal that holds the grant; the withdrawal event is another row,
    # so the locked read cannot see it. A second look in a new statement (a fresh snapshot under
    # READ COMMITTED) does.
    locked = lock.objects(**values)
    if not locked or not look.rows(**values):
        raise ConsentRequired(purpose=purpose)
    consent_held.send(sender=ConsentEvent, subject=subject, purpose=purpose, grants=locked)
    return locked


@functools.cache
def _hold_queries(purpose: str) -> tuple[PreparedQuery, PreparedQuery]:
    """`consent_active_grants` for a purpose (a doctor's scope optional), compiled once per
    connection (medplatform.prepared_queries): the locking read and the second look."""

    def grants(*, subject_id, now, doctor_id):
        return consent_active_grants(subject=subject_id, purpose=purpose, doctor=doctor_id, now=now)

    kinds = {"subject_id": uuid.UUID, "now": datetime.datetime, "doctor_id": uuid.UUID}
    lock = PreparedQuery(
        ConsentEvent,
        lambda **values: grants(**values).select_for_update(of=("self",)).order_by("id"),
        write=True,
        optional=("doctor_id",),
        **kinds,
    )
    look = PreparedQuery(
        ConsentEvent, lambda **values: grants(**values).values("id")[:1], optional=("doctor_id",), **kinds
    )
    return lock, look


def sensitive_read(
    *,
    actor: User,
    subject: User,
    what: str,
    categories: Iterable[str] = (),
    metadata: dict | None = None,
    context: ActContext = SYSTEM,
) -> AuditEntry | None:
    """Record that `actor` saw `subject`'s visit reason or health-profile content (`what` is the
    audit action, e.g. "appointment_viewed"). The patient reading their own data is not audited."""
    if actor.pk == subject.pk:
        return None
    return audit_record(
        actor=actor, action=what, patient=subject, categories=categories, metadata=metadata, context=context
    )
