from django.contrib import admin

from privacy.models import AuditEntry, ConsentEvent, ConsentText


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only evidence: nobody edits or deletes it, not even a superuser."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["purpose", "version", "language", "content_hash", "created_at"]
    list_filter = ["purpose", "language"]
    readonly_fields = ["content_hash", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.events.exists():
            return ["purpose", "version", "language", "text", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.events.exists()


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subject", "purpose", "action", "doctor", "text_version", "channel"]
    list_filter = ["purpose", "action", "channel"]
    search_fields = ["subject__email"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "actor_role", "action", "patient", "request_id"]
    list_filter = ["action", "actor_role"]
    search_fields = ["actor__email", "patient__email", "request_id"]
