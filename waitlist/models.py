"""The fair waitlist: a patient's place in a doctor's queue for a range of days, and the offers
(exclusive holds on a freed slot) made to the first patients in line.

What the database itself guarantees (docs/waitlist.md):
- one open offer per entry and one per patient (partial unique indexes): two freed slots never go
  to one patient by accident;
- no two open offers of one doctor overlap (an exclusion constraint, as for bookings): no slot is
  offered twice;
- nobody but the offer's patient can book held time: a trigger on the appointments table
  (migration 0002) refuses the row, and the booking service turns that into slot_unavailable.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.constraints import no_overlap
from medplatform.timestamps import TimeStampedModel

# The trigger's name for the error it raises: appointments' booking services map it to slot_unavailable.
HELD_SLOT_CONSTRAINT = "waitlist_offer_holds_slot"


class WaitlistEntry(TimeStampedModel):
    """A patient's place in one doctor's queue for the local days first_day..last_day; the queue is
    ordered by `created_at`, then `id`."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("A slot is held for you")
        CLAIMED = "claimed", _("Claimed")
        EXPIRED = "expired", _("Expired")
        LEFT = "left", _("Left")

    ACTIVE = (Status.WAITING, Status.OFFERED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    # Who joined: the patient, or their guardian for a dependant.
    joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="waitlist_entries")
    first_day = models.DateField()
    last_day = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        indexes = [
            models.Index(fields=["doctor", "created_at"], condition=Q(status="waiting"), name="waitlist_entry_queue"),
            models.Index(fields=["patient", "status"], name="waitlist_entry_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=models.F("last_day")), name="waitlist_entry_days_ordered"
            ),
            models.UniqueConstraint(
                fields=["patient", "doctor"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_entry_one_active_per_doctor",
            ),
        ]

    def __str__(self) -> str:
        return f"waitlist {self.id} {self.status}"


class WaitlistOffer(TimeStampedModel):
    """A freed slot held for the patient of `entry` until `expires_at`; claiming it books it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Claimed")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    # The entry's patient and doctor, repeated so that the constraints and the trigger read one row.
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="open"), name="waitlist_offer_due"),
            models.Index(fields=["doctor", "start"], condition=Q(status="open"), name="waitlist_offer_held"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="waitlist_offer_start_first"),
            models.UniqueConstraint(fields=["entry"], condition=Q(status="open"), name="waitlist_offer_one_per_entry"),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="open"), name="waitlist_offer_one_per_patient"
            ),
            no_overlap(name="waitlist_offer_doctor_no_overlap", party="doctor", condition=Q(status="open")),
            # SQLite's part of "no slot offered twice" (no exclusion constraints there).
            models.UniqueConstraint(
                fields=["doctor", "start"], condition=Q(status="open"), name="waitlist_offer_doctor_start_once"
            ),
        ]

    def __str__(self) -> str:
        return f"waitlist offer {self.id} {self.status}"
