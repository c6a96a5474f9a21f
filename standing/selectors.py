"""Reads of the no-show policy: the patient's standing, the clinic's appeals, the booking's block."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from medplatform.errors import NotFound
from privacy.context import SYSTEM, ActContext
from privacy.guard import sensitive_read
from standing import permissions
from standing.models import Appeal, ClinicStanding, Strike
from standing.policy import Policy, policies_for


def _blocks_running(now: datetime) -> QuerySet[ClinicStanding]:
    """The blocks running at `now`: what every question about a block asks."""
    return ClinicStanding.objects.filter(blocked_until__gt=now)


def booking_block(*, patient: User, now: datetime) -> Subquery:
    """The end of the patient's block at the clinic of the outer Clinic query (`OuterRef("pk")`),
    or NULL: the booking annotates the clinic query it already makes with it, so asking costs no
    query of its own (standing.policy.check_booking_allowed reads the answer)."""
    blocks = _blocks_running(now).filter(patient=patient, clinic_id=OuterRef("pk"))
    return Subquery(blocks.values("blocked_until")[:1])


def blocked_at(*, patient_ids, now: datetime) -> set[tuple]:
    """(patient id, clinic id) of every running block of these patients, in one query: the waitlist
    passes over a patient at a clinic where booking would refuse them, instead of holding a slot
    for a claim that must fail."""
    return set(_blocks_running(now).filter(patient_id__in=patient_ids).values_list("patient_id", "clinic_id"))


def standing_of(*, patient: User) -> list[dict]:
    """Per clinic where the patient has strikes in the window or a block running: the block's end,
    the policy's threshold, and the strikes (newest first) with their appeals. Three queries:
    the strikes with their clinics, visits and appeals; the blocks; the clinics' own policies."""
    now = timezone.now()
    since = now - timedelta(days=settings.NO_SHOW_WINDOW_DAYS)
    strikes = (
        Strike.objects.filter(patient=patient, at__gt=since)
        .select_related("clinic", "appointment", "appeal")
        .order_by("-at", "id")
    )
    blocks = {
        row.clinic_id: row
        for row in ClinicStanding.objects.filter(patient=patient, blocked_until__gt=now).select_related("clinic")
    }
    by_clinic: dict = {}
    for strike in strikes:
        by_clinic.setdefault(strike.clinic_id, {"clinic": strike.clinic, "strikes": []})["strikes"].append(strike)
    for clinic_id, block in blocks.items():
        by_clinic.setdefault(clinic_id, {"clinic": block.clinic, "strikes": []})
    policies = policies_for(by_clinic)
    standing = []
    for clinic_id, entry in sorted(by_clinic.items(), key=lambda item: item[1]["clinic"].name):
        block = blocks.get(clinic_id)
        standing.append(
            {
                **entry,
                "blocked_until": block.blocked_until if block else None,
                "strikes_to_block": policies[clinic_id].strikes_to_block,
            }
        )
    return standing


def policy_list(*, viewer: User) -> list[tuple]:
    """(clinic, Policy, own: bool) for each clinic the viewer is staff of, by name."""
    from accounts.selectors import staff_clinic_list
    from standing.models import NoShowPolicy

    clinics = list(staff_clinic_list(viewer=viewer))
    own = set(NoShowPolicy.objects.filter(clinic__in=clinics).values_list("clinic_id", flat=True))
    policies: dict[object, Policy] = policies_for([clinic.id for clinic in clinics])
    return [(clinic, policies[clinic.id], clinic.id in own) for clinic in clinics]


def strike_get(*, viewer: User, strike_id) -> Strike:
    """A strike of a patient the viewer acts for; anyone else's is not_found."""
    strike = Strike.objects.filter(permissions.strikes_visible_filter(viewer), pk=strike_id).first()
    if strike is None:
        raise NotFound()
    return strike


def appeal_list(*, viewer: User, status: str | None = None) -> QuerySet[Appeal]:
    """The appeals of the viewer's clinics (clinic staff), oldest first; nobody else's."""
    appeals = Appeal.objects.filter(permissions.appeals_decidable_filter(viewer)).select_related(
        "strike__clinic", "strike__appointment", "patient"
    )
    if status:
        appeals = appeals.filter(status=status)
    return appeals.order_by("created_at", "id")


def appeal_get(*, viewer: User, appeal_id) -> Appeal:
    """An appeal the viewer may decide (staff of the strike's clinic); anyone else's is not_found."""
    appeal = appeal_list(viewer=viewer).filter(pk=appeal_id).first()
    if appeal is None:
        raise NotFound()
    return appeal


def appeals_shown(*, viewer: User, appeals, context: ActContext = SYSTEM) -> list[Appeal]:
    """The appeals as the clinic's staff see them. A reason is the patient's own words and may be
    about their health: showing one to anyone but the patient is a sensitive read, audited once
    per appeal shown."""
    appeals = list(appeals)
    for appeal in appeals:
        if appeal.reason:
            sensitive_read(
                actor=viewer,
                subject=appeal.patient,
                what="no_show_appeal_viewed",
                categories=["appeal_reason"],
                metadata={"appeal": str(appeal.id), "clinic": str(appeal.strike.clinic_id)},
                context=context,
            )
    return appeals
