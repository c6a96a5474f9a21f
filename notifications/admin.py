from django.contrib import admin

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    # No body is stored; the row shows what was sent to whom and how it went.
    list_display = ["id", "recipient", "kind", "channel", "status", "attempts", "last_error", "created_at"]
    list_filter = ["kind", "channel", "status"]
    search_fields = ["id", "provider_sid", "recipient__email"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "sms", "whatsapp", "email", "updated_at"]
    search_fields = ["user__email"]
