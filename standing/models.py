"""The no-show policy: strikes per patient and clinic, their appeals, and the booking block.

A strike is recorded when a visit is marked a no-show (standing.services, told by
appointments.events). Enough strikes within the window block online booking at that clinic:
the block's end is kept on the patient's `ClinicStanding` row, which the booking reads in the
query it already makes (standing.selectors.booking_block) and which every change of the
patient's strikes at that clinic locks first.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from medplatform.encryption import EncryptedTextField
from medplatform.timestamps import TimeStampedModel
from standing.policy import default_block_days, default_strikes_to_block


class NoShowPolicy(TimeStampedModel):
    """A clinic's own policy; a clinic without one follows the NO_SHOW_* settings."""

    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, primary_key=True, related_name="no_show_policy"
    )
    strikes_to_block = models.PositiveSmallIntegerField(
        _("no-shows within the window that block online booking"), default=default_strikes_to_block
    )
    block_days = models.PositiveSmallIntegerField(_("days online booking stays blocked"), default=default_block_days)

    class Meta:
        ordering = ["clinic"]
        verbose_name = _("no-show policy")
        verbose_name_plural = _("no-show policies")
        constraints = [
            models.CheckConstraint(condition=Q(strikes_to_block__gte=1), name="no_show_policy_at_least_one_strike"),
            models.CheckConstraint(condition=Q(block_days__gte=1), name="no_show_policy_at_least_one_day"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.strikes_to_block} strikes, {self.block_days} days"


class ClinicStanding(TimeStampedModel):
    """One patient at one clinic: the end of their booking block, if any. Every strike or appeal
    change of the pair locks this row first, so the block is always computed from all of them."""

    id = models.BigAutoField(primary_key=True)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "clinic"]
        constraints = [models.UniqueConstraint(fields=["patient", "clinic"], name="clinic_standing_once")]

    def __str__(self) -> str:
        return f"{self.patient_id} @ {self.clinic_id}: blocked until {self.blocked_until}"


class Strike(TimeStampedModel):
    class Voided(models.TextChoices):
        APPEAL_ACCEPTED = "appeal_accepted", _("appeal accepted")
        CORRECTED = "corrected", _("the visit is no longer a no-show")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    # One strike per missed visit, whatever replays the no-show.
    appointment = models.OneToOneField(
        "appointments.Appointment", on_delete=models.CASCADE, related_name="no_show_strike"
    )
    at = models.DateTimeField(db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_because = models.CharField(max_length=20, choices=Voided.choices, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["patient", "clinic", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, voided_because="")
                | Q(voided_at__isnull=False) & ~Q(voided_because=""),
                name="strike_voided_with_a_cause",
            )
        ]

    def __str__(self) -> str:
        return f"strike {self.id} {self.patient_id} @ {self.clinic_id}"

    @property
    def counts(self) -> bool:
        return self.voided_at is None


class Appeal(TimeStampedModel):
    """The patient's (or their guardian's) one appeal of a strike, decided by the clinic's staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    strike = models.OneToOneField(Strike, on_delete=models.CASCADE, related_name="appeal")
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the patient wrote may be about their health ("I was in hospital"): encrypted, shown to
    # the clinic's staff through sensitive_read, and erased once the appeal is decided.
    reason = EncryptedTextField(null=True, blank=True, owner="patient")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | ~Q(status="pending") & Q(decided_at__isnull=False),
                name="appeal_decided_with_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"appeal {self.id} {self.status}"
