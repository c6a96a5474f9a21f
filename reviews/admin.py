"""Moderation. Reviews are read-only here: a moderator hides or restores one with a reason (kept
in ReviewModeration), and nobody deletes one from the admin (deletion follows the patient's
consent withdrawal or erasure only). Comments are plain text: the admin escapes them like any
value and never turns links into anchors."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from medplatform.admin_readonly import ReadOnlyTabularInline
from reviews import selectors, services
from reviews.models import MODERATION_REASON_MAX_LENGTH, Review, ReviewModeration, ReviewReport

EXCERPT_LENGTH = 80


class ReviewReportInline(ReadOnlyTabularInline):
    model = ReviewReport
    fields = ["created_at", "reporter", "reason", "resolved_at"]
    readonly_fields = fields


class ReviewModerationInline(ReadOnlyTabularInline):
    model = ReviewModeration
    fields = ["at", "action", "reason", "moderator"]
    readonly_fields = fields


class ModerationForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label=_("Moderation"),
        required=False,
        choices=[("", "—"), ("hide", _("Hide")), ("restore", _("Restore"))],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=MODERATION_REASON_MAX_LENGTH)

    class Meta:
        model = Review
        fields: list = []

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for this decision."))
        return cleaned


class ReportedFilter(admin.SimpleListFilter):
    title = _("reports")
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("open", _("Open reports")), ("any", _("Ever reported"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_reports__gt=0)
        if self.value() == "any":
            return queryset.filter(total_reports__gt=0)
        return queryset


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    form = ModerationForm
    list_display = [
        "created_at",
        "doctor",
        "rating",
        "comment_excerpt",
        "is_published",
        "is_hidden",
        "open_reports",
        "total_reports",
    ]
    list_filter = [ReportedFilter, "is_published", "is_hidden"]
    search_fields = ["doctor__user__last_name"]
    readonly_fields = [
        "id",
        "doctor",
        "appointment_id",
        "rating",
        "comment",
        "display",
        "is_published",
        "is_hidden",
        "reply_text",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": readonly_fields}),
        (_("Moderation"), {"fields": ["decision", "reason"]}),
    ]
    inlines = [ReviewReportInline, ReviewModerationInline]

    def get_queryset(self, request):
        return selectors.review_moderation_queue().select_related("reply").order_by("-open_reports", "-created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("comment"))
    def comment_excerpt(self, review: Review) -> str:
        # A plain str: the changelist escapes it.
        text = review.comment
        return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"

    @admin.display(description=_("open reports"), ordering="open_reports")
    def open_reports(self, review: Review) -> int:
        return review.open_reports

    @admin.display(description=_("reports"), ordering="total_reports")
    def total_reports(self, review: Review) -> int:
        return review.total_reports

    @admin.display(description=_("doctor's reply"))
    def reply_text(self, review: Review) -> str:
        reply = getattr(review, "reply", None)
        return reply.text if reply is not None else ""

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        reason = form.cleaned_data.get("reason", "")
        if decision == "hide":
            services.review_hide(review_id=obj.pk, moderator=request.user, reason=reason)
        elif decision == "restore":
            services.review_restore(review_id=obj.pk, moderator=request.user, reason=reason)
        # No other field is editable, so there is nothing else to save.

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
