"""The notification outbox and per-user channel preferences.

A Notification row is written in the same transaction as the event that causes it; a unique key
(event_key, recipient, channel) makes the same event unable to produce two messages. The body is
rendered when the row is sent and is not stored: rows hold display values only, never health data.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from medplatform.encryption import keyed_hash_field
from medplatform.timestamps import TimeStampedModel


class Kind(models.TextChoices):
    APPOINTMENT_BOOKED = "appointment_booked", _("Appointment booked")
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled", _("Appointment rescheduled")
    APPOINTMENT_CANCELLED_BY_CLINIC = "appointment_cancelled_by_clinic", _("Appointment cancelled by the clinic")
    APPOINTMENT_CANCELLED_BY_PATIENT = "appointment_cancelled_by_patient", _("Appointment cancelled by you")
    APPOINTMENT_CANCELLED_FOR_DOCTOR = "appointment_cancelled_for_doctor", _("A patient cancelled an appointment")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    APPOINTMENT_RELEASED = "appointment_released", _("Appointment released: not confirmed in time")
    REVIEW_INVITATION = "review_invitation", _("Review invitation")
    MARKETING = "marketing", _("Marketing")
    VERIFICATION_CODE = "verification_code", _("Verification code")
    PASSWORD_RESET = "password_reset", _("Password reset")
    BREACH_NOTICE = "breach_notice", _("Notice of a personal-data breach")
    HANDOVER_INVITATION = "handover_invitation", _("Invitation to take over your account")
    HANDOVER_COMPLETED = "handover_completed", _("An account was taken over by its owner")
    RECIPIENT_NOTICE = "recipient_notice", _("A patient's data was corrected or erased")
    NO_SHOW_RECORDED = "no_show_recorded", _("A missed visit was recorded")
    BOOKING_BLOCKED = "booking_blocked", _("Online booking at a clinic is paused")
    NO_SHOW_APPEAL_ACCEPTED = "no_show_appeal_accepted", _("Your appeal of a missed visit was accepted")
    NO_SHOW_APPEAL_REFUSED = "no_show_appeal_refused", _("Your appeal of a missed visit was refused")
    WAITLIST_OFFER = "waitlist_offer", _("A slot is held for you from the waitlist")


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", _("E-mail")
    CONSOLE = "console", _("Console")
    PUSH = "push", _("Push notification")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNDELIVERED = "undelivered", _("Undelivered")


# Statuses only move up this ladder; the three terminal ones share the top rung.
STATUS_RANK = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.FAILED: 3,
    Status.UNDELIVERED: 3,
}


# What a Twilio status callback or look-up reports, in our statuses.
PROVIDER_STATUS = {
    "accepted": Status.SENT,
    "scheduled": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}


def statuses_below(status: str) -> list[str]:
    return [value for value, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]


class Notification(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    event_key = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Display values only (clinic and doctor names, start time, time zone, appointment id).
    context = models.JSONField(default=dict)
    appointment_id = models.UUIDField(null=True, blank=True, db_index=True)
    # Keyed hash of the phone number of an SMS, WhatsApp or console row: the daily cap per number
    # counts across every account that names it.
    destination_hash = keyed_hash_field(
        purpose="notification_destination", kept_for=timedelta(days=1), blank=True, db_index=True
    )
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    # Set when the last attempt may have reached the provider (5xx, timeout, worker died while
    # sending): the next attempt looks the message up at the provider before creating another.
    check_provider_first = models.BooleanField(default=False)
    # A code (HTTP status, provider error code, our own reason), never a body or an address.
    last_error = models.CharField(max_length=40, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient", "channel"], name="unique_notification_per_event_recipient_channel"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            models.Index(fields=["recipient", "created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} via {self.channel} ({self.status})"


# The channel switches of NotificationPreference, in the order channels are tried.
PREFERENCE_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.PUSH)


class NotificationPreference(TimeStampedModel):
    """Per-user channel switches. Marketing is not a switch here: it follows the consent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    sms = models.BooleanField(default=True)
    whatsapp = models.BooleanField(default=False)
    email = models.BooleanField(default=True)
    # Off until the user registers a device (notifications.devices.device_register turns it on).
    push = models.BooleanField(default=False)

    class Meta:
        ordering = ["user"]

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def enabled_channels(self) -> list[str]:
        return [channel for channel in PREFERENCE_CHANNELS if getattr(self, channel)]


class Device(TimeStampedModel):
    """A device that receives push notifications for a user.

    For `web` (and an Android or iOS browser or installed web app) `token` is the Web Push
    subscription's endpoint URL and `p256dh`/`auth` its keys (RFC 8291); a native app's token
    without keys is kept but not sent to until a native push provider is configured. A push
    service answering 404 or 410 for a subscription removes the row (notifications.channels.push_channel)."""

    class Platform(models.TextChoices):
        WEB = "web", "Web"
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    token = models.CharField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200, blank=True)
    auth = models.CharField(max_length=100, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"

    @property
    def is_web_push(self) -> bool:
        return bool(self.p256dh and self.auth)
