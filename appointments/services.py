"""Writes: schedules, booking, cancel, reschedule, outcomes. Each owns its transaction.

The database refuses double booking (constraints.py); these functions check first so that the
common case gets a clear answer, and turn the constraint's IntegrityError into SlotUnavailable
for the race the check cannot see.
"""

import functools
import logging
import secrets
import time as time_module
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Func, IntegerField, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Clinic, Doctor, User
from accounts.permissions import can_act_for
from appointments import availability_index, events, held_time, locks, permissions, selectors
from appointments.availability import zone
from appointments.confirmation_due import confirmation_due_for
from appointments.errors import BookingLimitReached, InvalidTransition, SlotUnavailable, TooLateToCancel
from appointments.models import (
    IDEMPOTENCY_WINDOW,
    Appointment,
    AppointmentStatusChange,
    Break,
    IdempotencyRecord,
    TimeOff,
    VisitType,
    WorkingHours,
)
from medplatform.errors import NotFound, PermissionDenied, ValidationFailed
from medplatform.prepared_queries import PreparedQuery
from privacy import data_keys
from privacy.context import SYSTEM, ActContext
from privacy.guard import consent_hold
from privacy.models import Purpose
from privacy.services import audit_record
from standing.policy import check_booking_allowed
from standing.selectors import booking_block

logger = logging.getLogger(__name__)

# PostgreSQL may end one of two conflicting inserts into an exclusion constraint with a deadlock
# or serialization failure instead of the constraint error; such a transaction is retried.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 3

T = TypeVar("T")

# Which of the patient's data keys encrypts a visit reason and an exam type.
VISIT_KEY_SCOPE = Appointment._meta.get_field("visit_reason").key_scope


def _retrying(work: Callable[[], T]) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            if attempt == ATTEMPTS:
                raise SlotUnavailable() from exc
            time_module.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _hold_query(*, patient_id, key, doctor_id):
    patient_row = User.objects.filter(pk=patient_id).order_by().select_for_update(no_key=True).values("pk")
    record = IdempotencyRecord.objects.filter(user_id=patient_id, key=key).order_by()
    return (
        Doctor.objects.select_related("user")
        .select_for_update(of=("self",), no_key=True)
        .annotate(patient_held=Subquery(patient_row), record_id=Subquery(record.values("id")[:1]))
        .filter(pk=doctor_id)
        .order_by()[:1]
    )


# `_hold_query` compiled once per connection (medplatform.prepared_queries).
_HOLD = PreparedQuery(Doctor, _hold_query, write=True, patient_id=UUID, key=str, doctor_id=UUID)


def _hold_patient_and_doctor(patient: User, doctor_id, idempotency_key: str | None) -> tuple[Doctor | None, int | None]:
    """The booking's locks in one statement, taken after the consent (the order of a withdrawal
    or an erasure): the doctor's row, the per-doctor lock of every availability writer
    (appointments.locks: bookings of one doctor run one at a time, ordered against time off and
    every other change of the doctor's time), and the patient's row (one booking change per
    patient at a time, so limits and idempotency keys are checked safely). Returns the doctor as
    it is under that lock (with its user; None when unknown) and the id of the patient's
    idempotency record for `idempotency_key`, if any."""
    found = _HOLD.objects(
        patient_id=patient.pk, key=idempotency_key or "", doctor_id=Doctor._meta.pk.to_python(doctor_id)
    )
    if not found:
        return None, None
    doctor = found[0]
    if doctor.patient_held is None:
        raise SlotUnavailable()
    locks.doctors_held([doctor.pk])
    return doctor, (doctor.record_id if idempotency_key else None)


def _history_known(appointment: Appointment, changes: list[AppointmentStatusChange]) -> None:
    """Hand `appointment.history.all()` the rows this transaction wrote, as a prefetch would, so
    that the answer to a new booking does not read back the one row it has just inserted."""
    history = appointment.history.all()
    history._result_cache = changes
    history._prefetch_done = True
    appointment._prefetched_objects_cache = {"history": history}


def _is_slot_constraint(exc: IntegrityError) -> bool:
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if name is not None:
        from appointments.models import SLOT_CONSTRAINTS

        return name in SLOT_CONSTRAINTS or name in held_time.constraint_names()
    # SQLite names the columns, not the constraint (a trigger's RAISE gives its message).
    message = str(exc)
    return "appointments_appointment.start" in message or message in held_time.constraint_names()


def _record_change(
    appointment: Appointment,
    *,
    from_status: str,
    actor: User | None,
    reason: str = "",
    previous_start: datetime | None = None,
) -> AppointmentStatusChange:
    change = AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor,
        actor_role=actor.role if actor is not None else "system",
        reason=reason[:500],
        previous_start=previous_start,
    )
    events.appointment_changed(appointment, change)
    return change


# --- schedules ---------------------------------------------------------------------------------


def _check_schedule_actor(actor: User, doctor: Doctor, clinic: Clinic | None = None) -> None:
    if not permissions.can_manage_schedule(actor, doctor, clinic.id if clinic else None):
        raise PermissionDenied()


def _check_times(start_time: time, end_time: time, field: str = "end_time") -> None:
    if start_time >= end_time:
        raise ValidationFailed(fields={field: [_("The end must be after the start.")]})


def _check_visit_types(visit_types: list[str]) -> list[str]:
    cleaned = sorted(set(visit_types))
    if not cleaned or any(value not in VisitType.values for value in cleaned):
        raise ValidationFailed(fields={"visit_types": [_("Choose in_person and/or online.")]})
    return cleaned


def working_hours_create(
    *,
    actor: User,
    doctor: Doctor,
    clinic: Clinic,
    weekday: int,
    start_time: time,
    end_time: time,
    slot_minutes: int = 30,
    visit_types: list[str] | None = None,
) -> WorkingHours:
    _check_schedule_actor(actor, doctor, clinic)
    hours = WorkingHours(
        doctor=doctor,
        clinic=clinic,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        slot_minutes=slot_minutes,
        visit_types=_check_visit_types(visit_types or [VisitType.IN_PERSON]),
    )
    _validate_working_hours(hours)
    with transaction.atomic():
        locks.hold_doctors([hours.doctor_id])
        hours.save()
        events.hours_opened(doctor_id=hours.doctor_id)
        availability_index.refresh_doctor(doctor_id=hours.doctor_id)
    return hours


def working_hours_update(*, actor: User, hours: WorkingHours, **changes) -> WorkingHours:
    _check_schedule_actor(actor, hours.doctor, hours.clinic)
    for name in ("weekday", "start_time", "end_time", "slot_minutes"):
        if name in changes:
            setattr(hours, name, changes[name])
    if "visit_types" in changes:
        hours.visit_types = _check_visit_types(changes["visit_types"])
    _validate_working_hours(hours)
    with transaction.atomic():
        locks.hold_doctors([hours.doctor_id])
        hours.save(update_fields=["weekday", "start_time", "end_time", "slot_minutes", "visit_types", "updated_at"])
        events.hours_opened(doctor_id=hours.doctor_id)
        availability_index.refresh_doctor(doctor_id=hours.doctor_id)
    return hours


def working_hours_delete(*, actor: User, hours: WorkingHours) -> None:
    _check_schedule_actor(actor, hours.doctor, hours.clinic)
    with transaction.atomic():
        locks.hold_doctors([hours.doctor_id])
        hours.delete()
        availability_index.refresh_doctor(doctor_id=hours.doctor_id)


def _validate_working_hours(hours: WorkingHours) -> None:
    if not hours.doctor.clinics.filter(pk=hours.clinic_id).exists():
        raise ValidationFailed(fields={"clinic": [_("The doctor does not work at this clinic.")]})
    _check_times(hours.start_time, hours.end_time)
    if not 5 <= hours.slot_minutes <= 240:
        raise ValidationFailed(fields={"slot_minutes": [_("Between 5 and 240 minutes.")]})
    minutes = (hours.end_time.hour * 60 + hours.end_time.minute) - (
        hours.start_time.hour * 60 + hours.start_time.minute
    )
    if minutes < hours.slot_minutes:
        raise ValidationFailed(fields={"slot_minutes": [_("Longer than the working hours.")]})
    # At any clinic: a doctor is in one place at a time, so a booking's time names its clinic.
    conflict = (
        WorkingHours.objects.filter(
            doctor=hours.doctor_id,
            weekday=hours.weekday,
            start_time__lt=hours.end_time,
            end_time__gt=hours.start_time,
        )
        .exclude(pk=hours.pk)
        .select_related("clinic")
        .order_by("start_time")
        .first()
    )
    if conflict is not None:
        raise ValidationFailed(
            fields={
                "start_time": [
                    _("Overlaps this doctor's working hours %(start)s–%(end)s at %(clinic)s.")
                    % {
                        "start": conflict.start_time.strftime("%H:%M"),
                        "end": conflict.end_time.strftime("%H:%M"),
                        "clinic": conflict.clinic.name,
                    }
                ]
            }
        )


def break_create(
    *, actor: User, doctor: Doctor, clinic: Clinic, weekday: int, start_time: time, end_time: time
) -> Break:
    _check_schedule_actor(actor, doctor, clinic)
    if not doctor.clinics.filter(pk=clinic.pk).exists():
        raise ValidationFailed(fields={"clinic": [_("The doctor does not work at this clinic.")]})
    _check_times(start_time, end_time)
    with transaction.atomic():
        locks.hold_doctors([doctor.id])
        pause = Break.objects.create(
            doctor=doctor, clinic=clinic, weekday=weekday, start_time=start_time, end_time=end_time
        )
        availability_index.refresh_doctor(doctor_id=doctor.id)
    return pause


def break_delete(*, actor: User, pause: Break) -> None:
    _check_schedule_actor(actor, pause.doctor, pause.clinic)
    with transaction.atomic():
        locks.hold_doctors([pause.doctor_id])
        pause.delete()
        events.hours_opened(doctor_id=pause.doctor_id)
        availability_index.refresh_doctor(doctor_id=pause.doctor_id)


def _check_time_off_actor(actor: User, doctor: Doctor) -> None:
    """Time off covers the doctor at every clinic: staff record it only for a doctor who works at
    their clinic alone; a doctor of several clinics records their own."""
    if doctor.user_id != actor.id and doctor.clinics.count() > 1:
        raise PermissionDenied(
            _("This doctor works at more than one clinic: only the doctor can record or remove their time off.")
        )


def time_off_create(
    *,
    actor: User,
    doctor: Doctor,
    start: datetime,
    end: datetime,
    reason: str = "",
    cancel_appointments: bool = False,
) -> tuple[TimeOff, int]:
    """Record time off; booked appointments inside it are a 409 unless the caller cancels them.

    Returns the time off and how many appointments were cancelled."""
    _check_schedule_actor(actor, doctor)
    _check_time_off_actor(actor, doctor)
    if start >= end:
        raise ValidationFailed(fields={"end": [_("The end must be after the start.")]})

    def work():
        with transaction.atomic():
            # Exclusive: no booking slips into the time off while it checks what it covers.
            locks.hold_doctors([doctor.id], exclusive=True)
            covered = list(
                Appointment.objects.select_for_update()
                .filter(doctor=doctor, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start)
                .order_by("start")
            )
            if covered and not cancel_appointments:
                raise SlotUnavailable(
                    _("%(count)d booked appointments fall inside this time off.") % {"count": len(covered)},
                    fields={"cancel_appointments": [_("Send true to cancel them and tell the patients.")]},
                )
            if any(not permissions.acts_for_clinic(actor, appointment) for appointment in covered):
                raise SlotUnavailable(_("Some appointments inside this time off belong to another clinic."))
            time_off = TimeOff.objects.create(doctor=doctor, start=start, end=end, reason=reason, created_by=actor)
            events.time_taken(doctor_id=doctor.id, spans=[(start, end)])
            for appointment in covered:
                appointment.status = Appointment.Status.CANCELLED_BY_CLINIC
                appointment.save(update_fields=["status", "updated_at"])
                _record_change(
                    appointment,
                    from_status=Appointment.Status.BOOKED,
                    actor=actor,
                    reason=_("Doctor unavailable (time off)"),
                )
            availability_index.touch(doctor_id=doctor.id, spans=[(start, end), *((a.start, a.end) for a in covered)])
            return time_off, len(covered)

    return _retrying(work)


def time_off_delete(*, actor: User, time_off: TimeOff) -> None:
    _check_schedule_actor(actor, time_off.doctor)
    _check_time_off_actor(actor, time_off.doctor)
    with transaction.atomic():
        locks.hold_doctors([time_off.doctor_id])
        time_off.delete()
        events.time_freed(doctor_id=time_off.doctor_id, spans=[(time_off.start, time_off.end)])
        availability_index.touch(doctor_id=time_off.doctor_id, spans=[(time_off.start, time_off.end)])


# --- booking -----------------------------------------------------------------------------------


def _local_day(instant: datetime, clinic: Clinic):
    return instant.astimezone(zone(clinic.timezone)).date()


def _count(rows) -> Subquery:
    """`SELECT COUNT(*)` of `rows` as a scalar subquery."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Subquery(counted.values("n"))


def _limits_query(
    *, clinic_id, patient_id, doctor_id, start, end, day_start, day_end, now, exclude_id=None, with_data_key: bool
):
    """The query of `_clinic_with_patient_limits`, from ids and instants only (its parameters)."""
    keys = data_keys.live_key(patient_id, VISIT_KEY_SCOPE) if with_data_key else {}
    booked = Appointment.objects.filter(patient_id=patient_id, status=Appointment.Status.BOOKED)
    if exclude_id is not None:
        booked = booked.exclude(pk=exclude_id)
    upcoming = booked.filter(start__gt=now)
    return Clinic.objects.annotate(
        overlapping=_count(booked.filter(start__lt=end, end__gt=start)),
        upcoming=_count(upcoming),
        same_day=_count(upcoming.filter(doctor_id=doctor_id, start__gte=day_start, start__lt=day_end)),
        no_show_blocked_until=booking_block(patient=patient_id, now=now),
        **keys,
    ).filter(pk=clinic_id)


# `_limits_query` compiled once per connection (medplatform.prepared_queries), with or without the
# data key (a booking reads it); without an appointment left out unless a reschedule names one.
_LIMITS = {
    with_data_key: PreparedQuery(
        Clinic,
        functools.partial(_limits_query, with_data_key=with_data_key),
        optional=("exclude_id",),
        clinic_id=UUID,
        patient_id=UUID,
        doctor_id=UUID,
        start=datetime,
        end=datetime,
        day_start=datetime,
        day_end=datetime,
        now=datetime,
        exclude_id=UUID,
    )
    for with_data_key in (False, True)
}


def _clinic_with_patient_limits(
    *,
    clinic_id,
    patient: User,
    doctor: Doctor,
    start: datetime,
    end: datetime,
    tz: str,
    now: datetime,
    exclude=None,
    with_data_key: bool = False,
) -> Clinic:
    """The slot's clinic and, in the same query, what the patient's limits compare: bookings of the
    patient overlapping the slot, upcoming bookings, upcoming bookings with this doctor that
    local day, and the end of a no-show block at the clinic (standing); `with_data_key`: and the
    patient's live data key for the visit reason (privacy.data_keys.live_key), read under the
    booking's locks."""
    day_start = datetime.combine(start.astimezone(zone(tz)).date(), time.min, tzinfo=zone(tz))
    found = _LIMITS[with_data_key].objects(
        clinic_id=clinic_id,
        patient_id=patient.pk,
        doctor_id=doctor.pk,
        start=start,
        end=end,
        day_start=day_start,
        day_end=day_start + timedelta(days=1),
        now=now,
        exclude_id=None if exclude is None else exclude.pk,
    )
    if not found:
        raise Clinic.DoesNotExist()
    return found[0]


def _check_patient(clinic: Clinic, *, rescheduling: bool = False) -> None:
    """No two bookings of one patient at once; at most N upcoming; one per doctor per local day;
    no new booking while the no-show policy blocks the patient at the clinic (moving a booking
    they hold is no new booking)."""
    if not rescheduling:
        check_booking_allowed(clinic)
    if clinic.overlapping:
        raise SlotUnavailable(_("You already have an appointment at that time."))
    if not rescheduling and clinic.upcoming >= settings.BOOKING_MAX_FUTURE_APPOINTMENTS:
        raise BookingLimitReached(
            _("You can hold at most %(limit)d upcoming appointments.")
            % {"limit": settings.BOOKING_MAX_FUTURE_APPOINTMENTS}
        )
    if clinic.same_day:
        raise BookingLimitReached(_("You already have an appointment with this doctor on that day."))


def _new_meeting_room() -> str:
    return secrets.token_urlsafe(24)


def appointment_book(
    *,
    patient: User,
    doctor: Doctor | UUID,
    start: datetime,
    visit_reason: str,
    exam_type: str = "",
    visit_type: str = VisitType.IN_PERSON,
    idempotency_key: str | None = None,
    request_hashes: Sequence[str] = (),
    context: ActContext = SYSTEM,
    actor: User | None = None,
    clinic: Clinic | None = None,
) -> tuple[Appointment, bool]:
    """Book a free slot for a patient with the booking consent. Returns (appointment, replayed).

    `doctor`: the doctor, or the id a client sent, read under the booking's lock (NotFound when
    unknown or inactive; a doctor handed in who is inactive by then: SlotUnavailable).

    With an idempotency key, a retry of the same request within 24 hours returns the first
    booking (replayed=True) and books nothing new; the same key with another body is refused.
    `request_hashes` are the body's keyed hashes under every configured key, current first
    (`keyed_hashes`): the first is stored, any of them matches a stored one.

    `clinic` is required when the doctor works at more than one clinic, and a slot at another
    clinic is refused: a booking never lands at a clinic the patient did not choose."""
    if not patient.is_patient:
        raise PermissionDenied()
    actor = actor or patient  # a guardian books for a dependant; the history and audit name them
    if not can_act_for(actor, patient.pk):
        raise NotFound()
    if timezone.is_naive(start):
        raise ValidationFailed(fields={"start": [_("Give the time with its UTC offset.")]})
    chosen_clinic = clinic
    by_id = not isinstance(doctor, Doctor)
    doctor_id = doctor if by_id else doctor.pk

    def work():
        with transaction.atomic():
            # The consent first, then the patient and the doctor: the order of a withdrawal or an erasure.
            consent_hold(subject=patient, purpose=Purpose.APPOINTMENT_HEALTH_DATA)
            doctor, record_id = _hold_patient_and_doctor(patient, doctor_id, idempotency_key)
            if doctor is None:
                raise NotFound() if by_id else SlotUnavailable()
            if record_id is not None:
                replay = _idempotent_replay(record_id, request_hashes)
                if replay is not None:
                    return replay, True
            if not doctor.is_active:
                raise NotFound() if by_id else SlotUnavailable()
            now = timezone.now()
            schedule = selectors.schedule_around(doctor=doctor, instant=start, for_patient=patient)
            # The working hours in hand name the doctor's clinics: no query of its own.
            if chosen_clinic is None and len({shift.clinic_id for shift in schedule.shifts.get(doctor.id, ())}) > 1:
                raise ValidationFailed(
                    fields={"clinic": [_("This doctor works at more than one clinic: choose the clinic.")]}
                )
            slot = schedule.find_slot(doctor.id, start, now=now)
            if slot is None:
                raise SlotUnavailable()
            if chosen_clinic is not None and slot.clinic_id != chosen_clinic.pk:
                raise SlotUnavailable(
                    _("The doctor does not work at this clinic at this time."),
                    fields={"clinic": [_("The doctor is at another clinic at this time.")]},
                )
            if visit_type not in slot.visit_types:
                raise SlotUnavailable(_("The doctor does not offer this visit type at this time."))
            clinic = _clinic_with_patient_limits(
                clinic_id=slot.clinic_id,
                patient=patient,
                doctor=doctor,
                start=slot.start,
                end=slot.end,
                tz=slot.timezone,
                now=now,
                with_data_key=True,
            )
            _check_patient(clinic)
            appointment = Appointment(
                patient=patient,
                doctor=doctor,
                clinic=clinic,
                start=slot.start,
                end=slot.end,
                visit_type=visit_type,
                confirmation_due=confirmation_due_for(
                    clinic=clinic, patient=patient, start=slot.start, visit_type=visit_type, now=now
                ),
                meeting_room=_new_meeting_room() if visit_type == VisitType.ONLINE else None,
                visit_reason=visit_reason,
                exam_type=exam_type,
            )
            # No savepoint: a constraint error ends this transaction, and the booking with it.
            try:
                with data_keys.live_key_read(patient.pk, VISIT_KEY_SCOPE, clinic.data_key_id, clinic.data_key_wrapped):
                    appointment.save(force_insert=True)
            except IntegrityError as exc:
                if _is_slot_constraint(exc):
                    raise SlotUnavailable() from exc
                raise
            change = _record_change(appointment, from_status="", actor=actor)
            _history_known(appointment, [change])
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    user=patient,
                    key=idempotency_key,
                    request_hash=request_hashes[0] if request_hashes else "",
                    appointment=appointment,
                )
            # The schedule read under the doctor's lock, with this booking: no second read.
            span = (appointment.start, appointment.end)
            availability_index.touch(doctor_id=doctor.id, spans=[span], schedule=schedule, booked=span)
            audit_record(
                actor=actor,
                action="appointment_booked",
                patient=patient,
                metadata={"appointment": str(appointment.id), "doctor": str(doctor.id), "clinic": str(clinic.id)},
                context=context,
            )
            return appointment, False

    return _retrying(work)


def _idempotent_replay(record_id: int, request_hashes: Sequence[str]) -> Appointment | None:
    record = IdempotencyRecord.objects.select_related("appointment").get(pk=record_id)
    if record.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
        record.delete()
        return None
    if record.request_hash not in (request_hashes or ("",)):
        raise ValidationFailed(fields={"Idempotency-Key": [_("This key was already used with a different request.")]})
    return record.appointment


def _locked(appointment: Appointment, *, also: tuple[str, ...] = ()) -> Appointment:
    """The appointment row for update and the rows of `also` (its doctor, the lock of every
    availability writer, appointments.locks, for a change of its time or status; its patient for
    a reschedule), read with what its answer and notifications show; the clinic and the users
    stay unlocked."""
    rows = Appointment.objects.select_related("clinic", "doctor__user", "patient")
    locked = rows.select_for_update(of=("self", *also)).get(pk=appointment.pk)
    if "doctor" in also:
        locks.doctors_held([locked.doctor_id])
    return locked


def _check_visible(actor: User, appointment: Appointment) -> None:
    if not permissions.can_view_appointment(actor, appointment):
        raise NotFound()


def appointment_cancel(*, appointment: Appointment, actor: User, reason: str = "") -> Appointment:
    """The patient until the cutoff; the doctor or clinic staff (with a reason) until the start."""
    _check_visible(actor, appointment)
    with transaction.atomic():
        appointment = _locked(appointment, also=("doctor",))
        if appointment.status != Appointment.Status.BOOKED:
            raise InvalidTransition()
        now = timezone.now()
        if can_act_for(actor, appointment.patient_id):
            cutoff = timedelta(minutes=appointment.clinic.cancel_cutoff_minutes)
            if now > appointment.start - cutoff:
                raise TooLateToCancel()
            new_status = Appointment.Status.CANCELLED_BY_PATIENT
        elif permissions.acts_for_clinic(actor, appointment):
            if not reason.strip():
                raise ValidationFailed(fields={"reason": [_("Tell the patient why.")]})
            if now >= appointment.start:
                raise InvalidTransition(_("The appointment has started: mark it completed or no-show."))
            new_status = Appointment.Status.CANCELLED_BY_CLINIC
        else:
            raise PermissionDenied()
        appointment.status = new_status
        appointment.save(update_fields=["status", "updated_at"])
        _record_change(appointment, from_status=Appointment.Status.BOOKED, actor=actor, reason=reason)
        availability_index.touch(doctor_id=appointment.doctor_id, spans=[(appointment.start, appointment.end)])
    return appointment


def appointment_reschedule(*, appointment: Appointment, actor: User, start: datetime) -> Appointment:
    """Move a booking to another free slot of the same doctor at the same clinic, atomically.

    The row is updated in place: the database checks the new range against every other
    booking before the old range is released, and on a conflict nothing changes."""
    _check_visible(actor, appointment)
    if not permissions.can_reschedule(actor, appointment):
        raise PermissionDenied()
    if timezone.is_naive(start):
        raise ValidationFailed(fields={"start": [_("Give the time with its UTC offset.")]})
    if appointment.status != Appointment.Status.BOOKED:
        raise InvalidTransition()  # checked again under the lock; an ended visit needs no consent to refuse

    def work():
        with transaction.atomic():
            consent_hold(subject=appointment.patient, purpose=Purpose.APPOINTMENT_HEALTH_DATA)
            # One statement locks the appointment, its patient (one booking change per patient at a
            # time) and its doctor (exclusively: the lock of every availability writer, which
            # also orders it against time off and bookings).
            current = _locked(appointment, also=("patient", "doctor"))
            if current.status != Appointment.Status.BOOKED:
                raise InvalidTransition()
            now = timezone.now()
            if now >= current.start:
                raise InvalidTransition()
            if can_act_for(actor, current.patient_id):
                if now > current.start - timedelta(minutes=current.clinic.cancel_cutoff_minutes):
                    raise TooLateToCancel()
            schedule = selectors.schedule_around(
                doctor=current.doctor, instant=start, exclude_appointment=current, for_patient=current.patient
            )
            slot = schedule.find_slot(current.doctor_id, start, now=now)
            if slot is None or slot.clinic_id != current.clinic_id:
                raise SlotUnavailable()
            if current.visit_type not in slot.visit_types:
                raise SlotUnavailable(_("The doctor does not offer this visit type at this time."))
            limits = _clinic_with_patient_limits(
                clinic_id=current.clinic_id,
                patient=current.patient,
                doctor=current.doctor,
                start=slot.start,
                end=slot.end,
                tz=slot.timezone,
                now=now,
                exclude=current,
            )
            _check_patient(limits, rescheduling=True)
            previous_start = current.start
            previous_end = current.end
            current.start, current.end = slot.start, slot.end
            # A new day wants its own confirmation (or none, if it is close: the move is the word).
            current.confirmed_at = None
            current.confirmation_due = confirmation_due_for(
                clinic=current.clinic, patient=current.patient, start=slot.start, visit_type=current.visit_type, now=now
            )
            # No savepoint: a constraint error ends this transaction, and nothing has changed.
            try:
                current.save(update_fields=["start", "end", "confirmed_at", "confirmation_due", "updated_at"])
            except IntegrityError as exc:
                if _is_slot_constraint(exc):
                    raise SlotUnavailable() from exc
                raise
            _record_change(
                current,
                from_status=Appointment.Status.BOOKED,
                actor=actor,
                reason="rescheduled",
                previous_start=previous_start,
            )
            availability_index.touch(
                doctor_id=current.doctor_id, spans=[(previous_start, previous_end), (current.start, current.end)]
            )
            return current

    return _retrying(work)


def _mark_outcome(*, appointment: Appointment, actor: User, status: str) -> Appointment:
    _check_visible(actor, appointment)
    if not permissions.acts_for_clinic(actor, appointment):
        raise PermissionDenied()
    with transaction.atomic():
        appointment = _locked(appointment, also=("doctor",))
        if appointment.status != Appointment.Status.BOOKED or timezone.now() < appointment.start:
            raise InvalidTransition()
        appointment.status = status
        appointment.save(update_fields=["status", "updated_at"])
        _record_change(appointment, from_status=Appointment.Status.BOOKED, actor=actor)
        # The index counts booked time as busy, as slot computation does: a visit that ends up
        # completed or a no-show leaves it (in the past, so nothing bookable changes).
        availability_index.touch(doctor_id=appointment.doctor_id, spans=[(appointment.start, appointment.end)])
    return appointment


def appointment_complete(*, appointment: Appointment, actor: User) -> Appointment:
    """The doctor or clinic staff, once the appointment has started."""
    return _mark_outcome(appointment=appointment, actor=actor, status=Appointment.Status.COMPLETED)


def appointment_mark_no_show(*, appointment: Appointment, actor: User) -> Appointment:
    """The doctor or clinic staff, once the appointment has started."""
    return _mark_outcome(appointment=appointment, actor=actor, status=Appointment.Status.NO_SHOW)


def appointment_update_details(
    *, appointment: Appointment, actor: User, visit_reason: str | None = None, exam_type: str | None = None
) -> Appointment:
    """The patient may correct the visit reason and exam type of a booking not yet started."""
    _check_visible(actor, appointment)
    if not can_act_for(actor, appointment.patient_id):
        raise PermissionDenied()
    if appointment.status != Appointment.Status.BOOKED:
        raise InvalidTransition()  # checked again under the lock
    with transaction.atomic():
        consent_hold(subject=appointment.patient, purpose=Purpose.APPOINTMENT_HEALTH_DATA)
        appointment = _locked(appointment)
        if appointment.status != Appointment.Status.BOOKED or timezone.now() >= appointment.start:
            raise InvalidTransition()
        fields = ["updated_at"]
        if visit_reason is not None:
            appointment.visit_reason = visit_reason
            fields.append("visit_reason")
        if exam_type is not None:
            appointment.exam_type = exam_type
            fields.append("exam_type")
        appointment.save(update_fields=fields)
    return appointment


def bookings_cancelled_by_withdrawal(*, patient: User):
    """The bookings a withdrawal of the booking consent cancels: those still ahead."""
    return Appointment.objects.filter(patient=patient, status=Appointment.Status.BOOKED, start__gt=timezone.now())


def appointments_for_withdrawn_consent(*, patient: User) -> dict:
    """The appointment_health_data cascade: cancel what is ahead, erase every visit reason."""
    future = list(bookings_cancelled_by_withdrawal(patient=patient).select_for_update().order_by("start"))
    # Usually held already by the withdrawal (appointments.consent), before any cascade wrote.
    locks.hold_doctors({appointment.doctor_id for appointment in future})
    for appointment in future:
        appointment.status = Appointment.Status.CANCELLED_BY_PATIENT
        appointment.save(update_fields=["status", "updated_at"])
        _record_change(appointment, from_status=Appointment.Status.BOOKED, actor=patient, reason="consent withdrawn")
    freed: dict = {}
    for appointment in future:
        freed.setdefault(appointment.doctor_id, []).append((appointment.start, appointment.end))
    availability_index.touch_doctors(freed)
    erased = (
        Appointment.objects.filter(patient=patient)
        .exclude(visit_reason__isnull=True, exam_type__isnull=True)
        .update(visit_reason=None, exam_type=None, updated_at=timezone.now())
    )
    IdempotencyRecord.objects.filter(user=patient).delete()
    return {"appointments_cancelled": len(future), "visit_reasons_erased": erased}
