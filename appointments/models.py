"""Working hours, breaks, time off, appointments and their status history.

Times of day (working hours, breaks) are wall-clock times in the clinic's time zone; instants
(appointments, time off) are stored in UTC. Double booking is refused by the database itself:
see `appointments/constraints.py`.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.constraints import no_overlap
from medplatform.encryption import EncryptedTextField, keyed_hash_field
from medplatform.timestamps import TimeStampedModel

# How long a retry with the same Idempotency-Key gets the first booking back.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


class VisitType(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")


def default_visit_types() -> list[str]:
    return [VisitType.IN_PERSON.value]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(TimeStampedModel):
    """A doctor's weekly shift at one clinic, cut into slots of `slot_minutes`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="working_hours")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    visit_types = models.JSONField(default=default_visit_types)

    class Meta:
        ordering = ["weekday", "start_time"]
        verbose_name_plural = "working hours"
        indexes = [models.Index(fields=["doctor", "weekday"])]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_0_to_6"),
            models.CheckConstraint(condition=Q(start_time__lt=models.F("end_time")), name="working_hours_start_first"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240), name="working_hours_slot_5_to_240_minutes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor_id} {self.get_weekday_display()} {self.start_time}-{self.end_time}"


class Break(TimeStampedModel):
    """A recurring pause inside a doctor's working day at one clinic (lunch, rounds)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="breaks")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="breaks")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        indexes = [models.Index(fields=["doctor", "weekday"])]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="break_weekday_0_to_6"),
            models.CheckConstraint(condition=Q(start_time__lt=models.F("end_time")), name="break_start_first"),
        ]

    def __str__(self) -> str:
        return f"break {self.doctor_id} {self.get_weekday_display()} {self.start_time}-{self.end_time}"


class TimeOff(TimeStampedModel):
    """A stretch of absolute time a doctor does not work (leave, congress), in every clinic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["doctor", "start", "end"])]
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="time_off_start_first")]

    def __str__(self) -> str:
        return f"time off {self.doctor_id} {self.start:%Y-%m-%d %H:%M}-{self.end:%Y-%m-%d %H:%M}"


class Appointment(TimeStampedModel):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED_BY_PATIENT = "cancelled_by_patient", _("Cancelled by the patient")
        CANCELLED_BY_CLINIC = "cancelled_by_clinic", _("Cancelled by the clinic")
        # Not confirmed by the clinic's deadline the day before (appointments/confirmation.py).
        RELEASED = "released", _("Released: not confirmed in time")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.PROTECT, related_name="appointments")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.BOOKED)
    visit_type = models.CharField(max_length=20, choices=VisitType.choices, default=VisitType.IN_PERSON)
    # Unguessable (secrets.token_urlsafe); only online visits have one.
    meeting_room = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # Special-category data (KVKK Art. 6): encrypted; set to NULL when the booking consent is withdrawn.
    visit_reason = EncryptedTextField(null=True, blank=True, owner="patient")
    exam_type = EncryptedTextField(null=True, blank=True, owner="patient")
    # Set at booking when the clinic requires confirmation of an in-person visit: when the visit is
    # released unless confirmed (appointments/confirmation.py). Null: no confirmation needed.
    confirmation_due = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["doctor", "start"]),
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["clinic", "start"]),
            # the release run: booked visits past their deadline and not confirmed
            models.Index(
                fields=["confirmation_due"],
                condition=Q(status="booked", confirmation_due__isnull=False, confirmed_at__isnull=True),
                name="appointment_awaiting_confirm",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="appointment_start_first"),
            no_overlap(name="appointment_doctor_no_overlap", party="doctor", condition=Q(status="booked")),
            no_overlap(name="appointment_patient_no_overlap", party="patient", condition=Q(status="booked")),
            # SQLite's part of the guarantee (see constraints.py); harmless beside the exclusion on PostgreSQL.
            models.UniqueConstraint(
                fields=["doctor", "start"], condition=Q(status="booked"), name="appointment_doctor_start_once"
            ),
            models.UniqueConstraint(
                fields=["patient", "start"], condition=Q(status="booked"), name="appointment_patient_start_once"
            ),
        ]

    def __str__(self) -> str:
        return f"appointment {self.id} {self.status}"

    @property
    def is_online(self) -> bool:
        return self.visit_type == VisitType.ONLINE

    @property
    def meeting_url(self) -> str | None:
        return f"{settings.MEETING_BASE_URL}{self.meeting_room}" if self.meeting_room else None


SLOT_CONSTRAINTS = {
    "appointment_doctor_no_overlap",
    "appointment_patient_no_overlap",
    "appointment_doctor_start_once",
    "appointment_patient_start_once",
}


class AppointmentStatusChange(models.Model):
    """One row per status change (and per reschedule): who, when, from what to what, and why."""

    id = models.BigAutoField(primary_key=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # For reschedules: where the appointment was before.
    previous_start = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.appointment_id}: {self.from_status or '-'} -> {self.to_status}"


class IdempotencyRecord(models.Model):
    """The booking a (user, Idempotency-Key) pair made; a retry within 24 hours gets it back."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # Keyed hash of the request body: the same key with another body is refused. The body is not
    # stored, so a key rotation cannot recompute it: replays match it under the old keys instead.
    request_hash = keyed_hash_field(purpose="idempotency", kept_for=IDEMPOTENCY_WINDOW)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return f"idempotency {self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class DayAvailability(TimeStampedModel):
    """The availability index: one doctor's free slots at one clinic on one local day (the
    clinic's zone), as appointments/availability.py computes them without the clock, i.e.
    without the minimum notice and the horizon, which search applies when it reads.

    Kept exact by the services that book, cancel, reschedule and change schedules, in their own
    transactions (appointments/availability_index.py); a row exists for every day of the window
    on which the doctor has working hours at the clinic, with free_slots 0 once fully booked.
    No personal data: a doctor's schedule summary, no patient."""

    id = models.BigAutoField(primary_key=True)
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="availability_days")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    free_slots = models.PositiveSmallIntegerField(default=0)
    first_free = models.DateTimeField(null=True, blank=True)
    last_free = models.DateTimeField(null=True, blank=True)
    # Every free start in epoch seconds, sorted: `next_available` reads them for the one day per
    # clinic where now + minimum notice falls between first_free and last_free.
    free_starts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["doctor", "day", "clinic"]
        verbose_name_plural = "day availability"
        constraints = [
            models.UniqueConstraint(fields=["doctor", "clinic", "day"], name="day_availability_once"),
            models.CheckConstraint(
                condition=Q(free_slots=0, first_free__isnull=True, last_free__isnull=True)
                | Q(free_slots__gt=0, first_free__lte=models.F("last_free")),
                name="day_availability_first_and_last_with_slots",
            ),
        ]
        indexes = [
            # available_on: the candidates of one day that still have a slot
            models.Index(fields=["day", "doctor"], condition=Q(free_slots__gt=0), name="day_availability_day_free"),
            # next_available: a doctor's earliest free days
            models.Index(
                fields=["doctor", "first_free"], condition=Q(free_slots__gt=0), name="day_availability_doctor_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor_id} {self.clinic_id} {self.day}: {self.free_slots} free"


class UnclearReply(TimeStampedModel):
    """A reply to a confirmation request (SMS or WhatsApp) that was neither a yes nor a no: the
    patient was answered with help, nothing changed, and the clinic sees this flag to call them.

    The text itself is not kept (it may say anything, health included): the clinic calls."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="unclear_replies")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    # Who replied: the patient, or the guardian who gets the messages about a dependant's visit.
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["clinic", "created_at"], name="unclear_reply_clinic_idx")]

    def __str__(self) -> str:
        return f"unclear reply about {self.appointment_id} ({self.channel})"
