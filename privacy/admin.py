from django.contrib import admin
from django.utils import timezone

from privacy.models import AuditEntry, ConsentEvent, ConsentText, DataSubjectRequest, DestructionRun


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


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """The data-protection officer's queue: answer within 30 days (KVKK Art. 13)."""

    list_display = ["created_at", "subject", "type", "status", "due_date", "answered_at"]
    list_filter = ["status", "type"]
    search_fields = ["subject__email"]
    ordering = ["status", "due_date"]
    fields = ["subject", "type", "details", "status", "due_date", "created_at", "answered_at"]
    readonly_fields = ["subject", "type", "details", "due_date", "created_at", "answered_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data and obj.status != DataSubjectRequest.Status.OPEN and not obj.answered_at:
            obj.answered_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(DestructionRun)
class DestructionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "as_of", "counts", "errors"]
