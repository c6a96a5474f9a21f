"""Reads of the notifications app, scoped to the viewer."""

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification, NotificationPreference
from privacy.models import Purpose
from privacy.services import consent_is_active


def notification_list(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's own messages, newest first."""
    return Notification.objects.filter(recipient=viewer).only("id", "kind", "channel", "status", "created_at")


def preferences_get(*, user: User) -> NotificationPreference:
    """The user's preferences; the defaults (unsaved) when they never changed them."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def marketing_active(*, user: User) -> bool:
    return consent_is_active(subject=user, purpose=Purpose.MARKETING_MESSAGES)
