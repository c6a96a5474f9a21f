"""Writes of the no-show policy: strikes, appeals and their decisions, each owning its transaction
or running inside the caller's (a strike is recorded in the no-show's own transaction).

Every change of a patient's strikes at a clinic locks that pair's ClinicStanding row first and
then recomputes the block from all counting strikes (standing.policy), so two changes of the
same pair never work from different views of it."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.exemptions import is_exempt
from accounts.models import Clinic, User
from accounts.permissions import is_clinic_admin, is_clinic_member
from appointments.models import Appointment, AppointmentStatusChange
from medplatform.errors import NotFound, PermissionDenied, ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.services import audit_record
from standing import permissions, selectors
from standing.errors import AlreadyAppealed, AppealClosed, StrikeVoided
from standing.models import Appeal, ClinicStanding, NoShowPolicy, Strike
from standing.policy import MAX_BLOCK_DAYS, MAX_STRIKES_TO_BLOCK, block_end, policy_for


def _standing_locked(*, patient_id, clinic_id) -> ClinicStanding:
    """The pair's row, made if missing (a concurrent maker is no error), locked until commit."""
    ClinicStanding.objects.bulk_create(
        [ClinicStanding(patient_id=patient_id, clinic_id=clinic_id)], ignore_conflicts=True
    )
    return ClinicStanding.objects.select_for_update().get(patient_id=patient_id, clinic_id=clinic_id)


def _refresh_block(standing: ClinicStanding, *, now: datetime) -> datetime | None:
    """Recompute the pair's block from its counting strikes; returns the block's end (None when
    none is running). A strike old enough to earn no running block is not read."""
    policy = policy_for(standing.clinic_id)
    times = Strike.objects.filter(
        patient_id=standing.patient_id,
        clinic_id=standing.clinic_id,
        voided_at__isnull=True,
        at__gt=now - policy.window - policy.block,
    ).values_list("at", flat=True)
    until = block_end(list(times), policy)
    if until is not None and until <= now:
        until = None
    if standing.blocked_until != until:
        standing.blocked_until = until
        standing.save(update_fields=["blocked_until", "updated_at"])
    return until


def _message_context(strike: Strike, **extra) -> dict:
    """Display values only (notifications refuse anything else): the clinic, the missed visit's
    time and id."""
    appointment = strike.appointment
    return {
        "clinic_name": strike.clinic.name,
        "start": appointment.start.isoformat(),
        "timezone": strike.clinic.timezone,
        "appointment_id": str(appointment.id),
        **extra,
    }


def standing_appointment_changed(appointment: Appointment, change: AppointmentStatusChange) -> None:
    """Told by appointments.events of every recorded change, inside its transaction: a visit
    marked a no-show is a strike; one that stops being a no-show loses it. Nothing else (a
    cancellation by the clinic included) ever makes one."""
    if change.to_status == Appointment.Status.NO_SHOW:
        strike_record(appointment=appointment)
    elif change.from_status == Appointment.Status.NO_SHOW:
        strike_void_corrected(appointment=appointment)


def strike_record(*, appointment: Appointment) -> Strike | None:
    """A strike for a missed visit (once per visit), the block it earns, and a message to the
    patient (or their guardian). A patient exempt at the clinic on the day of the visit (65 or
    older, or marked by the clinic: accounts.exemptions) gets none."""
    from notifications.services import notification_enqueue

    missed_on = appointment.start.astimezone(ZoneInfo(appointment.clinic.timezone)).date()
    if is_exempt(appointment.patient, appointment.clinic, on=missed_on):
        return None
    with transaction.atomic():
        now = timezone.now()
        standing = _standing_locked(patient_id=appointment.patient_id, clinic_id=appointment.clinic_id)
        strike = Strike.objects.filter(appointment=appointment).first()
        if strike is not None:
            if strike.voided_because != Strike.Voided.CORRECTED:
                return strike
            strike.voided_at, strike.voided_because, strike.at = None, "", now
            strike.save(update_fields=["voided_at", "voided_because", "at", "updated_at"])
        else:
            strike = Strike.objects.create(
                patient_id=appointment.patient_id, clinic_id=appointment.clinic_id, appointment=appointment, at=now
            )
        was_blocked_until = standing.blocked_until
        until = _refresh_block(standing, now=now)
        strike.clinic, strike.appointment = appointment.clinic, appointment
        if until is not None and until != was_blocked_until:
            kind, context = "booking_blocked", _message_context(strike, until=until.isoformat())
        else:
            kind, context = "no_show_recorded", _message_context(strike)
        notification_enqueue(recipient=appointment.patient, kind=kind, event_key=f"{kind}:{strike.id}", context=context)
    return strike


def strike_void_corrected(*, appointment: Appointment) -> None:
    """The visit is no longer a no-show: its strike stops counting, and the block is recomputed."""
    with transaction.atomic():
        now = timezone.now()
        standing = _standing_locked(patient_id=appointment.patient_id, clinic_id=appointment.clinic_id)
        voided = Strike.objects.filter(appointment=appointment, voided_at__isnull=True).update(
            voided_at=now, voided_because=Strike.Voided.CORRECTED, updated_at=now
        )
        if voided:
            _refresh_block(standing, now=now)


def appeal_create(*, actor: User, strike_id, reason: str, context: ActContext = SYSTEM) -> Appeal:
    """The patient (or their guardian) appeals a counting strike, once."""
    strike = selectors.strike_get(viewer=actor, strike_id=strike_id)
    if not permissions.can_appeal(actor, strike):
        raise NotFound()
    with transaction.atomic():
        _standing_locked(patient_id=strike.patient_id, clinic_id=strike.clinic_id)
        strike = Strike.objects.get(pk=strike.pk)
        if Appeal.objects.filter(strike=strike).exists():
            raise AlreadyAppealed()
        if strike.voided_at is not None:
            raise StrikeVoided()
        # Under the pair's lock no second appeal can slip in; the unique strike backs it anyway.
        appeal = Appeal.objects.create(strike=strike, patient_id=strike.patient_id, filed_by=actor, reason=reason)
        audit_record(
            actor=actor,
            action="no_show_appeal_filed",
            patient=appeal.patient,
            metadata={"appeal": str(appeal.id), "strike": str(strike.id), "clinic": str(strike.clinic_id)},
            context=context,
        )
    return appeal


def appeal_decide(*, actor: User, appeal_id, accept: bool, context: ActContext = SYSTEM) -> Appeal:
    """Staff of the strike's clinic accept (the strike stops counting; a block that no longer
    holds is lifted at once) or refuse a pending appeal. The appeal's reason has served its purpose
    and is erased; the decision is audited and the patient (or their guardian) told either way."""
    from notifications.services import notification_enqueue

    appeal = selectors.appeal_get(viewer=actor, appeal_id=appeal_id)
    if not permissions.can_decide_appeal(actor, appeal):
        raise NotFound()
    with transaction.atomic():
        now = timezone.now()
        standing = _standing_locked(patient_id=appeal.patient_id, clinic_id=appeal.strike.clinic_id)
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("strike__clinic", "strike__appointment", "patient")
            .get(pk=appeal.pk)
        )
        if appeal.status != Appeal.Status.PENDING:
            raise AppealClosed()
        appeal.status = Appeal.Status.ACCEPTED if accept else Appeal.Status.REFUSED
        appeal.decided_by, appeal.decided_at, appeal.reason = actor, now, None
        appeal.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
        strike = appeal.strike
        was_blocked_until = standing.blocked_until
        if accept and strike.voided_at is None:
            strike.voided_at, strike.voided_because = now, Strike.Voided.APPEAL_ACCEPTED
            strike.save(update_fields=["voided_at", "voided_because", "updated_at"])
        until = _refresh_block(standing, now=now)
        audit_record(
            actor=actor,
            action=f"no_show_appeal_{appeal.status}",
            patient=appeal.patient,
            metadata={
                "appeal": str(appeal.id),
                "strike": str(strike.id),
                "clinic": str(strike.clinic_id),
                "blocked_until_before": was_blocked_until.isoformat() if was_blocked_until else None,
                "blocked_until": until.isoformat() if until else None,
            },
            context=context,
        )
        kind = f"no_show_appeal_{appeal.status}"
        notification_enqueue(
            recipient=appeal.patient, kind=kind, event_key=f"{kind}:{appeal.id}", context=_message_context(strike)
        )
    return appeal


def standing_erase(*, patient: User, context: ActContext = SYSTEM) -> int:
    """Account erasure: the patient's strikes, appeals and blocks go; the count is audited."""
    with transaction.atomic():
        strikes = Strike.objects.filter(patient=patient)
        _total, per_model = strikes.delete()
        ClinicStanding.objects.filter(patient=patient).delete()
        deleted = per_model.get(Strike._meta.label, 0)
        audit_record(
            actor=patient,
            action="no_show_record_erased",
            patient=patient,
            metadata={"strikes_deleted": deleted},
            context=context,
        )
    return deleted


def policy_set(
    *, actor: User, clinic: Clinic, strikes_to_block: int, block_days: int, context: ActContext = SYSTEM
) -> NoShowPolicy:
    """The clinic's admin sets its own no-show policy (audited). It applies from each patient's
    next strike or appeal decision; blocks already running keep their end."""
    if not is_clinic_admin(actor, clinic):
        if is_clinic_member(actor, clinic.pk):
            raise PermissionDenied(_("Only the clinic's admin can change its no-show policy."))
        raise NotFound()
    fields = {}
    if not 1 <= strikes_to_block <= MAX_STRIKES_TO_BLOCK:
        fields["strikes_to_block"] = [_("Between 1 and %(n)d.") % {"n": MAX_STRIKES_TO_BLOCK}]
    if not 1 <= block_days <= MAX_BLOCK_DAYS:
        fields["block_days"] = [_("Between 1 and %(n)d.") % {"n": MAX_BLOCK_DAYS}]
    if fields:
        raise ValidationFailed(fields=fields)
    with transaction.atomic():
        before = policy_for(clinic.pk)
        policy, _created = NoShowPolicy.objects.update_or_create(
            clinic=clinic, defaults={"strikes_to_block": strikes_to_block, "block_days": block_days}
        )
        audit_record(
            actor=actor,
            action="no_show_policy_changed",
            patient=None,
            metadata={
                "clinic": str(clinic.pk),
                "before": {"strikes_to_block": before.strikes_to_block, "block_days": before.block.days},
                "after": {"strikes_to_block": strikes_to_block, "block_days": block_days},
            },
            context=context,
        )
    return policy
