"""The no-show policy's privacy contract (see privacy.contract)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medplatform.date_fields import clinic_time
from privacy.contract import Contract, RetentionAction, RetentionRule
from standing import retention
from standing.models import ClinicStanding, Strike
from standing.services import standing_erase

RETENTION = {
    "standing.strikes": RetentionRule(
        kind=gettext_lazy("No-show record: missed visits counted at a clinic, and your appeals of them"),
        models=("standing.Strike", "standing.Appeal"),
        from_event=gettext_lazy("the missed visit's recording"),
        action=RetentionAction.DESTROY,
        period_setting="NO_SHOW_WINDOW_DAYS",
        run=retention.expired_strikes,
    ),
    "standing.blocks": RetentionRule(
        kind=gettext_lazy("Pauses of your online booking at a clinic after missed visits"),
        models=("standing.ClinicStanding",),
        from_event=gettext_lazy("the end of the pause"),
        action=RetentionAction.DESTROY,
        period_days=0,
        run=retention.ended_blocks,
    ),
}


def standing_privacy_summary(user) -> list[dict]:
    clinics = sorted(set(Strike.objects.filter(patient=user).values_list("clinic__name", flat=True)))
    if not clinics:
        return []
    return [
        {
            "data": _("Missed visits recorded by clinics, your appeals and any pause of your online booking"),
            "purpose": _("The clinics' no-show policy: keeping visits for patients who come"),
            "legal_basis": _("KVKK Art. 5(2)(f): the clinics' legitimate interest, weighed against yours"),
            "recipients": clinics,
        }
    ]


def standing_export(user) -> dict:
    strikes = Strike.objects.filter(patient=user).select_related("clinic", "appeal").order_by("at", "id")
    blocks = ClinicStanding.objects.filter(patient=user, blocked_until__isnull=False).select_related("clinic")
    return {
        "no_show_strikes": [
            {
                "id": str(strike.id),
                "clinic": str(strike.clinic_id),
                "clinic_name": strike.clinic.name,
                "appointment": str(strike.appointment_id),
                "at": clinic_time(strike.at, strike.clinic.timezone),
                "counts": strike.counts,
                "voided_because": strike.voided_because or None,
                "appeal": _appeal_export(strike),
            }
            for strike in strikes
        ],
        "booking_blocks": [
            {
                "clinic": str(block.clinic_id),
                "clinic_name": block.clinic.name,
                "blocked_until": clinic_time(block.blocked_until, block.clinic.timezone),
            }
            for block in blocks
        ],
    }


def _appeal_export(strike: Strike) -> dict | None:
    appeal = getattr(strike, "appeal", None)
    if appeal is None:
        return None
    tz = strike.clinic.timezone
    return {
        "id": str(appeal.id),
        "status": appeal.status,
        "reason": appeal.reason,
        "created_at": clinic_time(appeal.created_at, tz),
        "decided_at": clinic_time(appeal.decided_at, tz) if appeal.decided_at else None,
    }


CONTRACT = Contract(
    app="standing",
    retention=RETENTION,
    summary=standing_privacy_summary,
    export=standing_export,
    erasure=lambda user, context: standing_erase(patient=user, context=context),
)
