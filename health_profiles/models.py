"""Health-profile entries and the share grants that let one chosen doctor read them.

Every health value is an encrypted column; only the category (which table section an entry
belongs to) is plain, so entries can be grouped and filtered without decrypting.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from medplatform.encryption import EncryptedDateField, EncryptedTextField
from medplatform.timestamps import TimeStampedModel


class Category(models.TextChoices):
    ALLERGY = "allergy", _("Allergy")
    MEDICATION = "medication", _("Medication")
    CONDITION = "condition", _("Condition")
    TREATMENT = "treatment", _("Treatment")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


# The fields each category carries besides name and details.
CATEGORY_FIELDS: dict[str, tuple[str, ...]] = {
    Category.ALLERGY: ("reaction", "severity"),
    Category.MEDICATION: ("dose", "frequency"),
    Category.CONDITION: ("diagnosed_on",),
    Category.TREATMENT: ("started_on", "ended_on"),
}
SPECIFIC_FIELDS: tuple[str, ...] = tuple(name for names in CATEGORY_FIELDS.values() for name in names)

# The keys of the grouped profile, in API.md's order.
CATEGORY_GROUPS: dict[str, str] = {
    Category.ALLERGY: "allergies",
    Category.MEDICATION: "medications",
    Category.CONDITION: "conditions",
    Category.TREATMENT: "treatments",
}


# Every health value is under the patient's health-profile data key (privacy.PatientDataKey), which
# the withdrawal of the storage consent destroys: copies in backups become unreadable too.
HEALTH_KEY = {"owner": "patient", "key_scope": "health_profile"}


class HealthEntry(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="health_entries")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    name = EncryptedTextField(_("name"), **HEALTH_KEY)
    details = EncryptedTextField(_("details"), **HEALTH_KEY, blank=True, default="")
    reaction = EncryptedTextField(_("reaction"), **HEALTH_KEY, null=True, blank=True)
    severity = EncryptedTextField(_("severity"), **HEALTH_KEY, null=True, blank=True)
    dose = EncryptedTextField(_("dose"), **HEALTH_KEY, null=True, blank=True)
    frequency = EncryptedTextField(_("frequency"), **HEALTH_KEY, null=True, blank=True)
    diagnosed_on = EncryptedDateField(_("diagnosed on"), **HEALTH_KEY, null=True, blank=True)
    started_on = EncryptedDateField(_("started on"), **HEALTH_KEY, null=True, blank=True)
    ended_on = EncryptedDateField(_("ended on"), **HEALTH_KEY, null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["patient", "category"])]
        verbose_name_plural = "health entries"

    def __str__(self) -> str:
        # Never the name: __str__ ends up in logs, admin messages and error reports.
        return f"{self.category} entry {self.id}"


class ShareGrant(TimeStampedModel):
    """What a `health_profile_share` consent lets one doctor read; deleted when it is withdrawn."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="health_shares")
    doctor = models.ForeignKey("accounts.Doctor", on_delete=models.CASCADE, related_name="health_shares")
    # The categories the patient chose; at least one since categories became required. An empty
    # list (older rows) grants nothing: see selectors.active_shares.
    categories = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    consent = models.OneToOneField("privacy.ConsentEvent", on_delete=models.PROTECT, related_name="share_grant")

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["doctor", "patient"])]

    def __str__(self) -> str:
        return f"share {self.id}"

    @property
    def effective_categories(self) -> list[str]:
        """The known categories the share names, in API.md's order; never more than were chosen."""
        return [category for category in Category.values if category in self.categories]

    @property
    def category_labels(self) -> list[str]:
        return [Category(category).label for category in self.effective_categories]

    @property
    def ends_after_days(self) -> int | None:
        """Days after the last visit the share ends, when the patient set no expiry (else None)."""
        return settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT if self.expires_at is None else None
