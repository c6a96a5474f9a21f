"""The breach register (KVKK Art. 12(5)): record a breach, move it through its states, flag the
ones past the Board's 72-hour deadline, and find the people whose data the audit trail shows in
the breach window.

Who counts as affected: a patient named by an audit entry, inside the window (inclusive), whose
action hands that patient's special-category data to someone or out of the platform:

- `appointment_viewed`: a doctor or clinic staff member read the appointment with its visit reason;
- `health_profile_read`: a doctor read the shared health profile;
- `privacy_request_viewed`: the officer read a data-subject request (its free text may hold
  health details);
- `appointment_booked`: the visit reason and exam type were passed to the booked doctor and clinic;
- `health_profile_exported`: the profile left the platform as an export file.

Consent events, status changes, erasures and other audit actions carry no personal data of the
patient to anyone and do not make a person affected. Only ids and counts are logged.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from medplatform.errors import ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.models import AuditEntry, BreachRecord
from privacy.services import audit_record

logger = logging.getLogger(__name__)

AFFECTING_ACTIONS = frozenset(
    {
        "appointment_viewed",
        "health_profile_read",
        "privacy_request_viewed",
        "appointment_booked",
        "health_profile_exported",
    }
)

State = BreachRecord.State
STATE_ORDER = [State.OPEN, State.NOTIFIED_BOARD, State.NOTIFIED_PEOPLE, State.CLOSED]
STAMPS = {
    State.NOTIFIED_BOARD: "board_notified_at",
    State.NOTIFIED_PEOPLE: "people_notified_at",
    State.CLOSED: "closed_at",
}


def breach_recorded(*, breach: BreachRecord, actor: User | None, context: ActContext = SYSTEM) -> None:
    """Audit a new register entry (the admin saves it; this records who did)."""
    audit_record(
        actor=actor,
        action="breach_recorded",
        patient=None,
        metadata={"breach": breach.pk, "state": breach.state},
        context=context,
    )


def check_breach_state(*, breach: BreachRecord, state: str) -> None:
    """A breach only moves forward: open, Board notified, people notified, closed."""
    if state not in STATE_ORDER or STATE_ORDER.index(state) <= STATE_ORDER.index(breach.state):
        raise ValidationFailed(
            fields={"state": [_("A breach moves forward only: open, Board notified, people notified, closed.")]}
        )


def breach_state_change(
    *, breach: BreachRecord, actor: User | None, state: str, now: datetime | None = None, context: ActContext = SYSTEM
) -> BreachRecord:
    """Move a breach to a later state, stamp the time and audit who moved it from what to what."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = BreachRecord.objects.select_for_update().get(pk=breach.pk)
        check_breach_state(breach=locked, state=state)
        old_state = locked.state
        locked.state = state
        setattr(locked, STAMPS[state], now)
        locked.save(update_fields=["state", STAMPS[state], "board_deadline", "updated_at"])
        audit_record(
            actor=actor,
            action="breach_state_changed",
            patient=None,
            metadata={"breach": locked.pk, "from": old_state, "to": state},
            context=context,
        )
    return locked


@dataclass
class BreachReport:
    as_of: datetime
    open: list[BreachRecord] = field(default_factory=list)
    overdue: list[BreachRecord] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "open": [breach.pk for breach in self.open],
            "overdue": [breach.pk for breach in self.overdue],
        }


def breach_report(*, now: datetime) -> BreachReport:
    """The daily report: every breach not closed, and those past 72 hours without the Board told.
    Logged with ids and deadlines only (the register's text stays in the register)."""
    unclosed = list(BreachRecord.objects.exclude(state=State.CLOSED).order_by("board_deadline", "pk"))
    report = BreachReport(as_of=now, open=unclosed, overdue=[b for b in unclosed if b.is_overdue(now)])
    if report.overdue:
        logger.warning(
            "breach report: %d not closed, %d OVERDUE for the Board's 72-hour notice: %s",
            len(report.open),
            len(report.overdue),
            ", ".join(f"#{b.pk} (deadline {b.board_deadline:%Y-%m-%d %H:%M} UTC)" for b in report.overdue),
        )
    else:
        logger.info("breach report: %d not closed, none overdue", len(report.open))
    return report


def affected_patients(*, breach: BreachRecord) -> list[User]:
    """The patients whose data the audit trail shows read or received inside the breach window."""
    patient_ids = (
        AuditEntry.objects.filter(
            at__gte=breach.window_start,
            at__lte=breach.window_end,
            action__in=AFFECTING_ACTIONS,
            patient__isnull=False,
        )
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=patient_ids).order_by("pk"))
