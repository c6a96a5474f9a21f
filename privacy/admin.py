from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medplatform.admin_readonly import ReadOnlyModelAdmin
from medplatform.errors import ValidationFailed
from privacy import breaches, subject_rights
from privacy.context import act_context
from privacy.models import (
    AuditEntry,
    BreachRecord,
    ConsentEvent,
    ConsentText,
    DataSubjectRequest,
    DestructionRun,
)


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
class ConsentEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "subject", "purpose", "action", "doctor", "text_version", "channel"]
    list_filter = ["purpose", "action", "channel"]
    search_fields = ["subject__email"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "actor", "actor_role", "action", "patient", "request_id"]
    list_filter = ["action", "actor_role"]
    search_fields = ["actor__email", "patient__email", "request_id"]


class DataSubjectRequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ["status"]

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status != self.instance.status:
            try:
                subject_rights.check_privacy_request_status(privacy_request=self.instance, status=status)
            except ValidationFailed as error:
                raise ValidationError(error.fields["status"]) from error
        return status


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """The data-protection officer's queue: answer within 30 days (KVKK Art. 13). Only the status
    changes here, through the service that stamps the answer time and audits the change."""

    form = DataSubjectRequestForm
    list_display = ["created_at", "subject", "type", "status", "due_date", "answered_at"]
    list_filter = ["status", "type"]
    search_fields = ["subject__email"]
    ordering = ["status", "due_date"]
    fields = ["subject", "type", "details", "status", "due_date", "created_at", "answered_at"]
    readonly_fields = ["subject", "type", "details", "due_date", "created_at", "answered_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != DataSubjectRequest.Status.OPEN:
            return [*self.readonly_fields, "status"]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        privacy_request = super().get_object(request, object_id, from_field)
        if privacy_request is not None and request.method == "GET":
            # The request's free text may hold health details: the officer's read is in the log.
            subject_rights.privacy_request_read(
                officer=request.user, privacy_request=privacy_request, context=act_context(request, channel="admin")
            )
        return privacy_request

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            subject_rights.privacy_request_update(
                privacy_request=obj,
                actor=request.user,
                status=form.cleaned_data["status"],
                context=act_context(request, channel="admin"),
            )
        # No other field is editable, so there is nothing else to save.


@admin.register(DestructionRun)
class DestructionRunAdmin(ReadOnlyModelAdmin):
    list_display = ["started_at", "finished_at", "as_of", "counts", "errors"]


class BreachRecordForm(forms.ModelForm):
    class Meta:
        model = BreachRecord
        fields = [
            "detected_at",
            "description",
            "data_categories",
            "people_categories",
            "records_affected",
            "people_affected",
            "window_start",
            "window_end",
            "state",
        ]

    def clean_state(self):
        state = self.cleaned_data["state"]
        if self.instance.pk is None:
            if state != BreachRecord.State.OPEN:
                raise ValidationError(_("A new breach starts open."))
        elif state != self.instance.state:
            try:
                breaches.check_breach_state(breach=self.instance, state=state)
            except ValidationFailed as error:
                raise ValidationError(error.fields["state"]) from error
        return state

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end and start > end:
            self.add_error("window_end", _("The window must end after it starts."))
        return cleaned


@admin.register(BreachRecord)
class BreachRecordAdmin(admin.ModelAdmin):
    """The data-protection officer's breach register (KVKK Art. 12(5)): the Board is told within 72
    hours of detection. Entries are added and described here; a state change goes through the
    service, which stamps it and writes an audit entry. Entries are never deleted."""

    form = BreachRecordForm
    list_display = ["id", "detected_at", "board_deadline", "state", "overdue", "people_affected", "recorded_by"]
    list_filter = ["state"]
    ordering = ["-detected_at"]
    readonly_fields = [
        "board_deadline",
        "board_notified_at",
        "people_notified_at",
        "closed_at",
        "recorded_by",
        "created_at",
        "updated_at",
    ]

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj):
        return obj.is_overdue(timezone.now())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        context = act_context(request, channel="admin")
        new_state = form.cleaned_data.get("state")
        if not change:
            obj.recorded_by = request.user
            obj.save()
            breaches.breach_recorded(breach=obj, actor=request.user, context=context)
            return
        if "state" in form.changed_data:
            # The other fields first (the form already set them), with the old state kept...
            obj.state = form.initial["state"]
            obj.save()
            # ...then the state through the service that stamps and audits it.
            breaches.breach_state_change(breach=obj, actor=request.user, state=new_state, context=context)
            obj.refresh_from_db()
        else:
            obj.save()
