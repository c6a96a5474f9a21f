"""The outbox and the channel switches are shown here, never edited: a notification is a record
of what was sent to whom, and a person's channel switches are theirs to set (through the API)."""

from django.contrib import admin

from medplatform.admin_readonly import ReadOnlyModelAdmin
from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    # No body is stored; the row shows what was sent to whom and how it went.
    list_display = ["id", "recipient", "kind", "channel", "status", "attempts", "last_error", "created_at"]
    list_filter = ["kind", "channel", "status"]
    search_fields = ["id", "provider_sid", "recipient__email"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyModelAdmin):
    list_display = ["user", "sms", "whatsapp", "email", "updated_at"]
    search_fields = ["user__email"]
