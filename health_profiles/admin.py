"""Health entries are deliberately not in the admin: platform admins never read health data.

Share grants are shown read-only: who may read whose profile, until when, never the data.
"""

from django.contrib import admin

from health_profiles.models import ShareGrant
from medplatform.admin_readonly import ReadOnlyModelAdmin


@admin.register(ShareGrant)
class ShareGrantAdmin(ReadOnlyModelAdmin):
    """Shares end by withdrawing the consent, which also records the withdrawal event."""

    list_display = ["id", "patient", "doctor", "categories", "expires_at", "created_at"]
    list_select_related = ["patient", "doctor__user"]
    readonly_fields = ["id", "patient", "doctor", "categories", "expires_at", "consent", "created_at", "updated_at"]
