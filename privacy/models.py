"""Consent texts, consent events and the audit trail.

Events and audit entries are append-only: the model refuses update and delete, the admin shows
them read-only, and a database trigger refuses UPDATE and DELETE too. They carry no health
content and outlive the data they are about: they are the proof.
"""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from medplatform.encryption import EncryptedTextField
from medplatform.timestamps import TimeStampedModel


class Purpose(models.TextChoices):
    APPOINTMENT_HEALTH_DATA = "appointment_health_data", _("Health data for appointments")
    HEALTH_PROFILE_STORAGE = "health_profile_storage", _("Storing my health profile")
    HEALTH_PROFILE_SHARE = "health_profile_share", _("Sharing my health profile with a doctor")
    REVIEW_PUBLICATION = "review_publication", _("Publishing my reviews")
    MARKETING_MESSAGES = "marketing_messages", _("Marketing messages")


class ConsentText(TimeStampedModel):
    """One version of the notice a patient reads before giving consent, in one language."""

    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    version = models.PositiveIntegerField()
    language = models.CharField(max_length=2, choices=[("tr", "Türkçe"), ("en", "English")])
    text = models.TextField()
    content_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["purpose", "-version", "language"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version", "language"], name="unique_consent_text_version")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version} ({self.language})"

    def save(self, *args, **kwargs):
        if self.pk and ConsentEvent.objects.filter(text_id=self.pk).exists():
            # A text someone consented to is evidence; a change needs a new version.
            raise ValueError("a consent text that has been agreed to cannot change; publish a new version")
        self.content_hash = hashlib.sha256(self.text.encode()).hexdigest()
        super().save(*args, **kwargs)


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only")


class ConsentEvent(AppendOnlyModel):
    class Action(models.TextChoices):
        GRANT = "grant", _("granted")
        WITHDRAW = "withdraw", _("withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_events")
    # Who gave or withdrew it: the subject, or their guardian acting for them (accounts.Guardianship).
    # Null on events recorded before guardians existed, which the subject gave themself.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="consent_acts"
    )
    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    # The grant a withdrawal ends; one withdrawal per grant.
    grant = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="withdrawal")
    doctor = models.ForeignKey(
        "accounts.Doctor", on_delete=models.PROTECT, null=True, blank=True, related_name="consent_events"
    )
    categories = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    text_version = models.PositiveIntegerField(null=True, blank=True)
    text_language = models.CharField(max_length=2, blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, default="api")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["subject", "purpose", "action"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action="grant", grant__isnull=True)
                | models.Q(action="withdraw", grant__isnull=False),
                name="consent_withdrawal_names_its_grant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.purpose} by {self.subject_id}"


class AuditEntry(AppendOnlyModel):
    """Who touched whose personal data, how and when; never the data itself."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_actions"
    )
    actor_role = models.CharField(max_length=20)
    action = models.CharField(max_length=50)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    categories = models.JSONField(default=list, blank=True)
    # Ids and counts only (for example {"grant": "<uuid>", "entries_deleted": 4}).
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["patient", "-at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_role} {self.action}"


class EncryptionCanary(models.Model):
    """A known value under the current key: start-up refuses to serve if it does not decrypt."""

    PLAINTEXT = "medplatform-encryption-canary"

    value = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"encryption canary {self.pk}"


class DataSubjectRequest(TimeStampedModel):
    class Type(models.TextChoices):
        ACCESS = "access", _("Access")
        RECTIFICATION = "rectification", _("Rectification")
        ERASURE = "erasure", _("Erasure")
        OBJECTION = "objection", _("Objection")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="privacy_requests")
    type = models.CharField(max_length=20, choices=Type.choices)
    # Free text a person writes about their own data may hold health details: encrypted.
    details = EncryptedTextField(blank=True, default="", owner="subject")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    due_date = models.DateField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "created_at"]

    def __str__(self) -> str:
        return f"{self.type} request due {self.due_date}"


class DestructionRun(AppendOnlyModel):
    """One periodic destruction run (KVKK erasure regulation: at most 6 months apart; we run daily).

    `counts` and `errors` are keyed by retention rule name; errors hold the exception class name
    only, never a message or a value. `as_of` is the time the rules measured retention against.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    as_of = models.DateTimeField()
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"destruction run {self.started_at:%Y-%m-%d %H:%M}"


class BreachRecord(TimeStampedModel):
    """One personal-data breach in the data-protection officer's register (KVKK Art. 12(5)).

    The Board expects notice within 72 hours of the controller learning of a breach, and the people
    affected as soon as possible. Entries describe the breach in categories and counts only: no
    health content, no names. State changes go through `privacy.breaches.breach_state_change`, which
    stamps them and writes an audit entry.
    """

    NOTICE_HOURS = 72

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        NOTIFIED_BOARD = "notified_board", _("Board notified")
        NOTIFIED_PEOPLE = "notified_people", _("People notified")
        CLOSED = "closed", _("Closed")

    detected_at = models.DateTimeField(_("detected at"))
    description = models.TextField(_("what happened"))
    data_categories = models.TextField(_("categories of data affected"))
    people_categories = models.TextField(_("categories of people affected"))
    records_affected = models.PositiveIntegerField(_("records affected"), null=True, blank=True)
    people_affected = models.PositiveIntegerField(_("people affected"), null=True, blank=True)
    window_start = models.DateTimeField(_("breach window from"))
    window_end = models.DateTimeField(_("breach window to"))
    board_deadline = models.DateTimeField(_("Board notice deadline"), editable=False)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    board_notified_at = models.DateTimeField(_("Board notified at"), null=True, blank=True, editable=False)
    people_notified_at = models.DateTimeField(_("people notified at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="breaches_recorded",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("breach")
        verbose_name_plural = _("breach register")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__lte=models.F("window_end")), name="breach_window_start_first"
            )
        ]

    def __str__(self) -> str:
        return f"breach {self.pk} detected {self.detected_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        self.board_deadline = self.detected_at + timedelta(hours=self.NOTICE_HOURS)
        super().save(*args, **kwargs)

    def is_overdue(self, now) -> bool:
        """Past the 72 hours, the Board not told and the entry not closed."""
        return self.board_notified_at is None and self.state != self.State.CLOSED and now >= self.board_deadline


class DestructionPermit(models.Model):
    """Lets the destruction run delete append-only rows past their retention period: the trigger
    on consent events and audit entries lets a DELETE through only while a row naming that table
    exists. The run inserts it and removes it inside the same transaction (privacy.retention), so
    no other connection ever sees one; UPDATE stays refused always."""

    table = models.CharField(max_length=63, unique=True)

    def __str__(self) -> str:
        return self.table


class PatientDataKey(models.Model):
    """A person's own data key for their encrypted values, wrapped by the master key
    (envelope encryption, docs/encryption.md). Destroying it (`wrapped_key` emptied, `destroyed_at`
    set) makes every copy of the values under it unreadable, backups included: crypto-shredding.

    One live key per person and scope: `account` (visit reasons, exam types, national id,
    data-subject request texts) and `health_profile` (health-profile entries, whose key the
    withdrawal of the storage consent destroys)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("account")
        HEALTH_PROFILE = "health_profile", _("health profile")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No database constraint: a new user's key is made while the user row is being inserted.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="data_keys"
    )
    scope = models.CharField(max_length=20, choices=Scope.choices)
    wrapped_key = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "scope"], condition=models.Q(destroyed_at__isnull=True), name="one_live_data_key"
            ),
            models.CheckConstraint(
                condition=models.Q(destroyed_at__isnull=True, wrapped_key__isnull=False)
                | models.Q(destroyed_at__isnull=False, wrapped_key__isnull=True),
                name="data_key_destroyed_means_gone",
            ),
        ]

    def __str__(self) -> str:
        return f"data key {self.pk} ({self.scope}{', destroyed' if self.destroyed_at else ''})"
