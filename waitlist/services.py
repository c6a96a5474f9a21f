"""Writes of the waitlist: join, leave, claim, and the offers made when time frees up or a hold
lapses. Each owns its transaction, except the ones the appointments app calls inside its own
(`offers_for_freed_time`, `waitlist_for_withdrawn_consent`).

Fairness (docs/waitlist.md): a freed slot goes to the first entry in queue order (joined first)
whose days cover it and whose patient holds no open offer; several slots freed at once go out in
time order, the earliest to the first in line. The offer is made in the transaction that frees
the slot, so the slot is never free for anybody else in between.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Clinic, Doctor, User
from accounts.permissions import can_act_for
from appointments import availability_index, locks
from appointments.availability import UTC, zone
from appointments.errors import SlotUnavailable
from appointments.models import Appointment, VisitType
from appointments.selectors import Schedules
from appointments.services import appointment_book
from medplatform.errors import NotFound, PermissionDenied, ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.guard import consent_hold
from privacy.models import Purpose
from privacy.services import audit_record
from standing.selectors import blocked_at
from waitlist.locks import queue_lock
from waitlist.models import WaitlistEntry, WaitlistOffer

Entry = WaitlistEntry
Offer = WaitlistOffer


def _today() -> date:
    return timezone.localdate(timezone=zone(settings.DEFAULT_CLINIC_TIMEZONE))


def hold_duration() -> timedelta:
    return timedelta(minutes=settings.WAITLIST_HOLD_MINUTES)


# --- the patient's side ------------------------------------------------------------------------


def waitlist_join(
    *,
    actor: User,
    patient: User,
    doctor: Doctor,
    first_day: date,
    last_day: date,
    context: ActContext = SYSTEM,
) -> WaitlistEntry:
    """Put the patient (the actor, or a dependant of theirs) at the end of the doctor's queue for
    the local days first_day..last_day. Needs the booking consent, held while the entry is written."""
    if not patient.is_patient:
        raise PermissionDenied()
    if not can_act_for(actor, patient.pk):
        raise NotFound()
    today = _today()
    if first_day < today:
        raise ValidationFailed(fields={"from": [_("Choose today or a later day.")]})
    if last_day < first_day:
        raise ValidationFailed(fields={"to": [_("Must not be before `from`.")]})
    if (last_day - today).days > settings.WAITLIST_MAX_DAYS_AHEAD:
        raise ValidationFailed(
            fields={"to": [_("At most %(days)d days ahead.") % {"days": settings.WAITLIST_MAX_DAYS_AHEAD}]}
        )
    already = ValidationFailed(fields={"doctor": [_("You are already on this doctor's waitlist.")]})
    with transaction.atomic():
        consent_hold(subject=patient, purpose=Purpose.APPOINTMENT_HEALTH_DATA)
        if Entry.objects.filter(patient=patient, doctor=doctor, status__in=Entry.ACTIVE).exists():
            raise already
        try:
            with transaction.atomic():
                entry = Entry.objects.create(
                    patient=patient, joined_by=actor, doctor=doctor, first_day=first_day, last_day=last_day
                )
        except IntegrityError as exc:  # the same patient joining twice at once
            raise already from exc
        audit_record(
            actor=actor,
            action="waitlist_joined",
            patient=patient,
            metadata={"entry": str(entry.id), "doctor": str(doctor.id)},
            context=context,
        )
    entry.shown_offers = []
    return entry


def _locked_entry(actor: User, entry: WaitlistEntry) -> WaitlistEntry:
    if not can_act_for(actor, entry.patient_id):
        raise NotFound()
    return Entry.objects.select_for_update(of=("self",)).select_related("doctor__user").get(pk=entry.pk)


def waitlist_leave(*, actor: User, entry: WaitlistEntry, context: ActContext = SYSTEM) -> WaitlistEntry:
    """Leave the queue; a slot held for the entry passes to the next in line at once. Leaving an
    entry that already ended (claimed, expired, left) changes nothing."""
    with transaction.atomic():
        # The doctor before the queue: the order of every availability writer (appointments.locks).
        locks.hold_doctors([entry.doctor_id])
        queue_lock()
        entry = _locked_entry(actor, entry)
        if entry.status not in Entry.ACTIVE:
            return entry
        now = timezone.now()
        released = _close_open_offers(entry_ids=[entry.pk], status=Offer.Status.WITHDRAWN, now=now)
        entry.status = Entry.Status.LEFT
        entry.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="waitlist_left",
            patient=entry.patient,
            metadata={"entry": str(entry.id), "doctor": str(entry.doctor_id)},
            context=context,
        )
        _pass_on(released)
    return entry


def waitlist_claim(
    *,
    actor: User,
    entry: WaitlistEntry,
    visit_reason: str,
    exam_type: str = "",
    visit_type: str = VisitType.IN_PERSON,
    context: ActContext = SYSTEM,
) -> Appointment:
    """Book the slot held for the entry. The booking is the booking service's own (consent,
    limits, the slot's checks): the hold only makes the slot free for this patient alone. No
    open offer, or one past its expiry: slot_unavailable."""
    if not can_act_for(actor, entry.patient_id):
        raise NotFound()
    with transaction.atomic():
        # The consent first, then the entry and its offer: the order of a withdrawal.
        consent_hold(subject=entry.patient, purpose=Purpose.APPOINTMENT_HEALTH_DATA)
        entry = _locked_entry(actor, entry)
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("clinic")
            .filter(entry=entry, status=Offer.Status.OPEN)
            .first()
        )
        if offer is None or offer.expires_at <= timezone.now():
            raise SlotUnavailable(_("No slot is held for you now: the offer has expired or was withdrawn."))
        appointment, _replayed = appointment_book(
            patient=entry.patient,
            actor=actor,
            doctor=entry.doctor,
            clinic=offer.clinic,
            start=offer.start,
            visit_reason=visit_reason,
            exam_type=exam_type,
            visit_type=visit_type,
            context=context,
        )
        offer.status = Offer.Status.CLAIMED
        offer.appointment = appointment
        offer.save(update_fields=["status", "appointment", "updated_at"])
        entry.status = Entry.Status.CLAIMED
        entry.save(update_fields=["status", "updated_at"])
    return appointment


# --- offers --------------------------------------------------------------------------------------


def offers_for_freed_time(*, doctor_id, spans: list[tuple[datetime, datetime]] | None) -> list[WaitlistOffer]:
    """Hold the doctor's free slots inside `spans` (None: anywhere) for the first patients in line,
    one slot each, in the caller's transaction (appointments.events.time_freed calls it when a
    booking is cancelled, released or moved, time off is removed or hours open up).

    One query when nobody waits for those days; otherwise the queue lock, the slots (the same
    computation booking uses, minimum notice and horizon included), the candidates locked in
    queue order, one insert of the offers, one update of the entries and each patient's message."""
    now = timezone.now()
    waiting = Entry.objects.filter(doctor_id=doctor_id, status=Entry.Status.WAITING)
    # Local days around UTC days: a zone is at most 14 hours from UTC.
    earliest = now.astimezone(UTC).date() - timedelta(days=1)
    waiting = waiting.filter(last_day__gte=earliest)
    if spans is not None:
        spans = [(start, end) for start, end in spans if end > now]
        if not spans:
            return []
        low = min(start for start, _end in spans).astimezone(UTC).date() - timedelta(days=1)
        high = max(end for _start, end in spans).astimezone(UTC).date() + timedelta(days=1)
        waiting = waiting.filter(first_day__lte=high, last_day__gte=low)
    days = waiting.aggregate(first=Min("first_day"), last=Max("last_day"))
    if days["first"] is None:
        return []
    first_day, last_day = max(days["first"], earliest), days["last"]
    if spans is not None:
        first_day, last_day = max(first_day, low), min(last_day, high)

    queue_lock()
    schedules = Schedules([doctor_id], first_day=first_day, last_day=last_day)
    slots = [
        slot
        for slot in schedules.free_slots(doctor_id, first_day=first_day, last_day=last_day, now=now)
        if spans is None or any(slot.start < end and slot.end > start for start, end in spans)
    ]
    if not slots:
        return []
    holders = Offer.objects.filter(status=Offer.Status.OPEN).values("patient_id")
    candidates = list(
        waiting.exclude(patient_id__in=holders)
        .order_by("created_at", "id")
        .select_for_update(of=("self",), skip_locked=True)
    )
    offers: list[WaitlistOffer] = []
    served: set = set()
    # A patient the no-show policy blocks at a slot's clinic could not claim it: they keep their
    # place, and the slot goes to the next in line.
    blocked = blocked_at(patient_ids=[entry.patient_id for entry in candidates], now=now) if candidates else set()
    expires_at = now + hold_duration()
    for slot in slots:
        day = slot.start.astimezone(zone(slot.timezone)).date()
        for entry in candidates:
            if entry.patient_id in served or not entry.first_day <= day <= entry.last_day:
                continue
            if (entry.patient_id, slot.clinic_id) in blocked:
                continue
            served.add(entry.patient_id)
            offers.append(
                Offer(
                    entry=entry,
                    patient_id=entry.patient_id,
                    doctor_id=doctor_id,
                    clinic_id=slot.clinic_id,
                    start=slot.start,
                    end=slot.end,
                    expires_at=expires_at,
                )
            )
            break
    if not offers:
        return []
    Offer.objects.bulk_create(offers)
    Entry.objects.filter(pk__in=[offer.entry_id for offer in offers]).update(
        status=Entry.Status.OFFERED, updated_at=now
    )
    _tell_patients(offers, doctor_id=doctor_id)
    return offers


def offers_for_taken_time(*, doctor_id, spans: list[tuple[datetime, datetime]]) -> int:
    """Time off recorded over held slots (appointments.events.time_taken, in the time off's
    transaction): those offers are withdrawn and their entries wait again in their old place (the
    patient did nothing wrong), first in line for the next slot that frees. One query when no
    offer is in the way. An offer being claimed at that moment is skipped, not waited for (the
    claim waits for the time off's schedule lock, then finds the slot gone: 409)."""
    overlapping = Q()
    for start, end in spans:
        overlapping |= Q(start__lt=end, end__gt=start)
    held = Offer.objects.filter(overlapping, doctor_id=doctor_id, status=Offer.Status.OPEN)
    if not held.exists():
        return 0
    queue_lock()
    taken = list(held.select_related("entry").select_for_update(of=("self", "entry"), skip_locked=True))
    if not taken:
        return 0
    now = timezone.now()
    Offer.objects.filter(pk__in=[offer.pk for offer in taken]).update(status=Offer.Status.WITHDRAWN, updated_at=now)
    Entry.objects.filter(pk__in=[offer.entry_id for offer in taken], status=Entry.Status.OFFERED).update(
        status=Entry.Status.WAITING, updated_at=now
    )
    return len(taken)


def _tell_patients(offers: list[WaitlistOffer], *, doctor_id) -> None:
    """Each patient's message: display values only (clinic, doctor, time, how long it is held)."""
    from notifications.services import notification_enqueue

    doctor = Doctor.objects.select_related("user").get(pk=doctor_id)
    clinics = {clinic.pk: clinic for clinic in Clinic.objects.filter(pk__in={offer.clinic_id for offer in offers})}
    patients = {user.pk: user for user in User.objects.filter(pk__in={offer.patient_id for offer in offers})}
    for offer in offers:
        clinic = clinics[offer.clinic_id]
        notification_enqueue(
            recipient=patients[offer.patient_id],
            kind="waitlist_offer",
            event_key=f"waitlist_offer:{offer.id}",
            context={
                "clinic_name": clinic.name,
                "doctor_name": doctor.name,
                "start": offer.start.isoformat(),
                "timezone": clinic.timezone,
                "hold_minutes": settings.WAITLIST_HOLD_MINUTES,
            },
        )


def _close_open_offers(*, entry_ids, status: str, now: datetime) -> list[WaitlistOffer]:
    offers = list(
        Offer.objects.select_for_update(of=("self",)).filter(entry_id__in=entry_ids, status=Offer.Status.OPEN)
    )
    Offer.objects.filter(pk__in=[offer.pk for offer in offers]).update(status=status, updated_at=now)
    return offers


def _pass_on(released: list[WaitlistOffer]) -> None:
    """The slots of closed offers go to the next in line (in this transaction); the availability
    index learns which stayed held and which are free again."""
    spans_by_doctor: dict = defaultdict(list)
    for offer in released:
        spans_by_doctor[offer.doctor_id].append((offer.start, offer.end))
    for doctor_id, spans in spans_by_doctor.items():
        offers_for_freed_time(doctor_id=doctor_id, spans=spans)
        availability_index.touch(doctor_id=doctor_id, spans=spans)


def offers_sweep(*, now: datetime | None = None) -> int:
    """Beat task's work: open offers past their expiry end (their entries too: the patient let
    the turn pass) and their slots go to the next in line, earliest expiry first; entries whose
    last day has passed expire. An offer whose patient booked the held slot directly (the slot
    was free for them) counts as claimed. Returns the offers expired."""
    now = now or timezone.now()
    with transaction.atomic():
        # The doctors of the offers due before the queue: the order of every availability writer
        # (appointments.locks); an offer of another doctor that falls due meanwhile waits for the next run.
        doctor_ids = set(
            Offer.objects.filter(status=Offer.Status.OPEN, expires_at__lte=now)
            .order_by("expires_at", "start", "id")
            .values_list("doctor_id", flat=True)[: settings.WAITLIST_SWEEP_BATCH]
        )
        locks.hold_doctors(doctor_ids)
        queue_lock()
        due = list(
            Offer.objects.filter(status=Offer.Status.OPEN, expires_at__lte=now, doctor_id__in=doctor_ids)
            .select_related("entry")
            .select_for_update(of=("self", "entry"), skip_locked=True)
            .order_by("expires_at", "start", "id")[: settings.WAITLIST_SWEEP_BATCH]
        )
        booked = _booked_by_holders(due)
        claimed = [offer for offer in due if (offer.patient_id, offer.doctor_id, offer.start) in booked]
        lapsed = [offer for offer in due if (offer.patient_id, offer.doctor_id, offer.start) not in booked]
        for offer in claimed:
            offer.status = Offer.Status.CLAIMED
            offer.appointment_id = booked[(offer.patient_id, offer.doctor_id, offer.start)]
            offer.updated_at = now
        if claimed:
            Offer.objects.bulk_update(claimed, ["status", "appointment", "updated_at"])
            Entry.objects.filter(pk__in=[offer.entry_id for offer in claimed]).update(
                status=Entry.Status.CLAIMED, updated_at=now
            )
        if lapsed:
            Offer.objects.filter(pk__in=[offer.pk for offer in lapsed]).update(
                status=Offer.Status.EXPIRED, updated_at=now
            )
            Entry.objects.filter(pk__in=[offer.entry_id for offer in lapsed], status=Entry.Status.OFFERED).update(
                status=Entry.Status.EXPIRED, updated_at=now
            )
            _pass_on(lapsed)
        Entry.objects.filter(
            status=Entry.Status.WAITING, last_day__lt=now.astimezone(UTC).date() - timedelta(days=1)
        ).update(status=Entry.Status.EXPIRED, updated_at=now)
    return len(lapsed)


def _booked_by_holders(offers: list[WaitlistOffer]) -> dict:
    """{(patient, doctor, start): appointment id} of the offers' slots their own patients booked."""
    if not offers:
        return {}
    rows = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        patient_id__in={offer.patient_id for offer in offers},
        start__in={offer.start for offer in offers},
    ).values_list("patient_id", "doctor_id", "start", "id")
    return {(patient, doctor, start): pk for patient, doctor, start, pk in rows}


# --- privacy ---------------------------------------------------------------------------------------


def waitlist_for_withdrawn_consent(patient: User) -> dict:
    """The booking consent's withdrawal (inside its transaction): every entry still waiting or
    offered is left and its held slot passes to the next in line. Their doctors are held already
    (`doctors_of_patient`, taken by the withdrawal before any cascade)."""
    queue_lock()
    entries = list(
        Entry.objects.select_for_update(of=("self",))
        .filter(patient=patient, status__in=Entry.ACTIVE)
        .order_by("created_at", "id")
    )
    if not entries:
        return {"waitlist_entries_left": 0}
    now = timezone.now()
    released = _close_open_offers(entry_ids=[entry.pk for entry in entries], status=Offer.Status.WITHDRAWN, now=now)
    Entry.objects.filter(pk__in=[entry.pk for entry in entries]).update(status=Entry.Status.LEFT, updated_at=now)
    _pass_on(released)
    return {"waitlist_entries_left": len(entries)}


def doctors_of_patient(patient: User) -> list:
    """The doctors whose queues the patient is in (entries waiting or offered): what a withdrawal
    of the booking consent holds before it writes (appointments.consent)."""
    return list(Entry.objects.filter(patient=patient, status__in=Entry.ACTIVE).values_list("doctor_id", flat=True))


def waitlist_erase(*, patient: User) -> int:
    """Account erasure: the consent withdrawal has ended every entry; none is kept."""
    deleted, _by_model = Entry.objects.filter(patient=patient).delete()
    return deleted
