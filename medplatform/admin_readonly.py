"""Admin pages that list and show rows but never write them.

For tables that only a service may change (it validates, locks, cascades and audits) and for
append-only evidence: the admin would otherwise be a back door around all of that.
"""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """No add, change or delete permission, whoever asks (superusers included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
