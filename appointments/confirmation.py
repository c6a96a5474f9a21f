"""Confirm or release, the day before (docs/confirmation.md).

A clinic that requires it (accounts.Clinic.requires_confirmation) has every in-person visit
confirmed by its deadline, `confirmation_hour` o'clock (the clinic's time) of the day before. The
deadline is fixed at booking (and at a reschedule) in `Appointment.confirmation_due`; a visit
booked after the confirmation request would have gone out, and an exempt patient's
(accounts.exemptions.is_exempt), gets none. The reminder asks to confirm or cancel
(appointments/reminders.py); the patient or their guardian confirms in the app or by replying
to the SMS or WhatsApp message (`appointment_reply`); the beat task releases what is still
unconfirmed at the deadline (`appointments_release_due`), through a status change, so the slot
is free again and events.appointment_changed announces it.

Confirming and releasing lock the appointment row and re-check under the lock: of a confirmation
and a release at the same moment exactly one wins, and a release runs once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.exemptions import is_exempt
from accounts.models import User
from accounts.permissions import acted_for_filter, can_act_for
from appointments import availability_index, locks
from appointments.confirmation_due import visit_day
from appointments.errors import InvalidTransition, TooLateToCancel
from appointments.models import Appointment, UnclearReply
from appointments.permissions import is_staff_of
from appointments.services import _check_visible, _locked, _record_change, appointment_cancel
from medplatform.errors import NotFound, PermissionDenied
from medplatform.search_keys import search_key

logger = logging.getLogger(__name__)

RELEASE_BATCH = 200
# Replies, compared after search_key (Turkish casing, accents and case folded: "İPTAL" -> "iptal").
YES = frozenset({"e", "evet", "yes", "y"})
NO = frozenset({"h", "hayir", "iptal", "no", "n"})


def appointment_confirm(*, appointment: Appointment, actor: User) -> Appointment:
    """The patient (or their guardian) confirms a booked visit that has not started; confirming
    again changes nothing. A visit already released is 409 invalid_transition."""
    _check_visible(actor, appointment)
    if not can_act_for(actor, appointment.patient_id):
        raise PermissionDenied()
    with transaction.atomic():
        appointment = _locked(appointment)
        if appointment.status != Appointment.Status.BOOKED or timezone.now() >= appointment.start:
            raise InvalidTransition()
        if appointment.confirmed_at is None:
            appointment.confirmed_at = timezone.now()
            appointment.save(update_fields=["confirmed_at", "updated_at"])
    return appointment


def appointment_release(*, appointment_id, now: datetime) -> bool:
    """Release one visit if it is still booked, unconfirmed and past its deadline, and its patient
    is not exempt (an exempt patient's visit just stops waiting). Returns whether it was released."""
    with transaction.atomic():
        appointment = Appointment.objects.select_related("clinic", "doctor__user", "patient")
        # Its doctor too: the lock of every availability writer (appointments.locks).
        appointment = appointment.select_for_update(of=("self", "doctor")).filter(pk=appointment_id).first()
        if (
            appointment is None
            or appointment.status != Appointment.Status.BOOKED
            or appointment.confirmed_at is not None
            or appointment.confirmation_due is None
            or appointment.confirmation_due > now
        ):
            return False
        if is_exempt(appointment.patient, appointment.clinic, on=visit_day(appointment.start, appointment.clinic)):
            appointment.confirmation_due = None
            appointment.save(update_fields=["confirmation_due", "updated_at"])
            return False
        locks.doctors_held([appointment.doctor_id])
        appointment.status = Appointment.Status.RELEASED
        appointment.save(update_fields=["status", "updated_at"])
        _record_change(appointment, from_status=Appointment.Status.BOOKED, actor=None, reason="not confirmed in time")
        availability_index.touch(doctor_id=appointment.doctor_id, spans=[(appointment.start, appointment.end)])
    logger.info("appointment %s released: not confirmed by its deadline", appointment_id)
    return True


def appointments_release_due(*, now: datetime | None = None) -> int:
    """Beat task's work: release every visit whose deadline has passed unconfirmed, each in its
    own transaction. Safe to run twice at once: the second finds nothing left to release."""
    now = now or timezone.now()
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            confirmation_due__isnull=False,
            confirmed_at__isnull=True,
            confirmation_due__lte=now,
        )
        .order_by("confirmation_due", "id")
        .values_list("id", flat=True)[:RELEASE_BATCH]
    )
    return sum(appointment_release(appointment_id=appointment_id, now=now) for appointment_id in list(due))


@dataclass(frozen=True)
class ConfirmationState:
    """What a visit's confirmation stands at, as the clinic sees it: `kind` is "confirmed" (`at`:
    when), "awaiting" (`at`: the deadline; the release run frees it once passed) or "released"."""

    kind: str
    at: datetime | None = None


def confirmation_state(appointment: Appointment) -> ConfirmationState | None:
    """None when no confirmation was asked of this visit (or it ended otherwise)."""
    if appointment.status == Appointment.Status.RELEASED:
        return ConfirmationState("released")
    if appointment.confirmed_at is not None:
        return ConfirmationState("confirmed", appointment.confirmed_at)
    if appointment.status == Appointment.Status.BOOKED and appointment.confirmation_due is not None:
        return ConfirmationState("awaiting", appointment.confirmation_due)
    return None


# --- replies to the SMS or WhatsApp message ---------------------------------------------------


@dataclass(frozen=True)
class ReplyOutcome:
    """What a reply did: `result` is one of confirmed, cancelled, too_late, unclear, nothing, unknown."""

    result: str
    appointment: Appointment | None = None
    sender: User | None = None


def reply_answer(body: str) -> str | None:
    """'yes', 'no', or None for anything else (never guessed)."""
    words = search_key(body).strip(" .!").split()
    if len(words) != 1:
        return None
    if words[0] in YES:
        return "yes"
    if words[0] in NO:
        return "no"
    return None


def _senders(phone: str) -> list[User]:
    """The active accounts whose verified phone is `phone` (E.164)."""
    return list(User.objects.filter(phone=phone, phone_verified=True, is_active=True, erased_at__isnull=True)[:2])


def next_awaiting_confirmation(*, sender: User, now: datetime) -> Appointment | None:
    """The sender's next visit that needs confirmation: their own, or a dependant's in their care."""
    return (
        Appointment.objects.filter(
            acted_for_filter(sender),
            status=Appointment.Status.BOOKED,
            confirmation_due__isnull=False,
            confirmed_at__isnull=True,
            start__gt=now,
        )
        .select_related("clinic", "doctor__user", "patient")
        .order_by("start", "id")
        .first()
    )


def appointment_reply(*, phone: str, body: str, channel: str) -> ReplyOutcome:
    """An SMS or WhatsApp reply from `phone`: "E"/"EVET" confirms and "H"/"HAYIR"/"İPTAL" cancels
    the sender's next visit that needs confirmation; anything else changes nothing and, when
    there is such a visit, is flagged to its clinic (UnclearReply)."""
    senders = _senders(phone)
    if len(senders) != 1:
        return ReplyOutcome("unknown")  # no account, or a number several accounts share: never guess
    sender = senders[0]
    now = timezone.now()
    appointment = next_awaiting_confirmation(sender=sender, now=now)
    if appointment is None:
        return ReplyOutcome("nothing", sender=sender)
    answer = reply_answer(body)
    if answer == "yes":
        try:
            appointment = appointment_confirm(appointment=appointment, actor=sender)
        except InvalidTransition:
            return ReplyOutcome("nothing", sender=sender)  # released (or started) meanwhile
        return ReplyOutcome("confirmed", appointment, sender)
    if answer == "no":
        try:
            appointment = appointment_cancel(appointment=appointment, actor=sender, reason="")
        except TooLateToCancel:
            return ReplyOutcome("too_late", appointment, sender)
        except InvalidTransition:
            return ReplyOutcome("nothing", sender=sender)
        return ReplyOutcome("cancelled", appointment, sender)
    UnclearReply.objects.create(appointment=appointment, clinic=appointment.clinic, sender=sender, channel=channel)
    return ReplyOutcome("unclear", appointment, sender)


def unclear_reply_list(*, viewer: User, clinic) -> QuerySet[UnclearReply]:
    """The clinic's unclear replies, newest first, for its staff; anyone else's is not_found."""
    if not is_staff_of(viewer, clinic.pk):
        raise NotFound()
    return (
        UnclearReply.objects.filter(clinic=clinic)
        .select_related("clinic", "appointment__patient")
        .order_by("-created_at", "id")
    )
