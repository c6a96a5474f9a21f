"""Verified reviews, the doctor's reply, user reports and the moderation history.

A review counts in its doctor's public rating (Doctor.rating_sum / rating_count) exactly while it
is published and not hidden; `reviews.services` keeps those two columns in step in the same
transaction as every change. Comments are plain text, stored as given and escaped wherever they
are rendered.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from medplatform.timestamps import TimeStampedModel

COMMENT_MAX_LENGTH = 2000
REPLY_MAX_LENGTH = 2000
REPORT_REASON_MAX_LENGTH = 500
MODERATION_REASON_MAX_LENGTH = 500


class Display(models.TextChoices):
    INITIALS = "initials", _("Initials")
    ANONYMOUS = "anonymous", _("Anonymous")


class Review(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # One review per appointment, enforced here as well as in the service.
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="review")
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.INITIALS)
    # True only with an active review_publication consent at the time of writing.
    is_published = models.BooleanField(default=False)
    # Set by moderation; a hidden review stays stored but is shown and counted nowhere public.
    is_hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["doctor", "-created_at"], name="review_doctor_public", condition=Q(is_published=True)),
            models.Index(fields=["patient", "-created_at"], name="review_patient_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"review {self.id} ({self.rating}/5)"

    @property
    def counts_in_rating(self) -> bool:
        return self.is_published and not self.is_hidden

    @property
    def display_name(self) -> str:
        """'A. Y.' or 'Anonymous'; needs the patient loaded (select_related on lists)."""
        if self.display == Display.ANONYMOUS:
            return str(_("Anonymous"))
        initials = " ".join(f"{part[0].upper()}." for part in (self.patient.first_name, self.patient.last_name) if part)
        return initials or str(_("Anonymous"))


class ReviewReply(TimeStampedModel):
    """The reviewed doctor's single public answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="review_replies")
    text = models.TextField(max_length=REPLY_MAX_LENGTH)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "review replies"

    def __str__(self) -> str:
        return f"reply to {self.review_id}"


class ReviewReport(TimeStampedModel):
    """A user's flag on a review; open reports put the review in the admin's moderation queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reports")
    reason = models.CharField(max_length=REPORT_REASON_MAX_LENGTH, blank=True)
    # Set when a moderator hides or restores the review.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["review", "reporter"], name="review_report_once_per_user")]

    def __str__(self) -> str:
        return f"report on {self.review_id}"


class ReviewModeration(models.Model):
    """History of hide/restore decisions, with who took them and why."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Hidden")
        RESTORE = "restore", _("Restored")

    id = models.BigAutoField(primary_key=True)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="moderation_history")
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=MODERATION_REASON_MAX_LENGTH)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="review_moderation_has_a_reason")]

    def __str__(self) -> str:
        return f"{self.action} {self.review_id}"
