from django.contrib import admin

from appointments.models import Appointment, AppointmentStatusChange, Break, TimeOff, WorkingHours


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["doctor", "clinic", "weekday", "start_time", "end_time", "slot_minutes"]
    list_filter = ["weekday", "clinic"]
    raw_id_fields = ["doctor", "clinic"]


@admin.register(Break)
class BreakAdmin(admin.ModelAdmin):
    list_display = ["doctor", "clinic", "weekday", "start_time", "end_time"]
    raw_id_fields = ["doctor", "clinic"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["doctor", "start", "end"]
    raw_id_fields = ["doctor", "created_by"]


class StatusChangeInline(admin.TabularInline):
    model = AppointmentStatusChange
    fields = ["from_status", "to_status", "actor_role", "reason", "previous_start", "at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Status and times only: changes go through the services (history, constraints, notices).
    The visit reason and exam type are not shown here (special-category data)."""

    list_display = ["id", "doctor", "clinic", "start", "status", "visit_type"]
    list_filter = ["status", "visit_type"]
    fields = ["id", "patient", "doctor", "clinic", "start", "end", "status", "visit_type"]
    readonly_fields = fields
    inlines = [StatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
