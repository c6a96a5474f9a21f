"""Schedules and appointments are shown here, never edited: working hours, breaks and time off
change through the API or the portal (appointments.services), which validate them, take the
schedule lock and cancel the bookings a time off covers; appointments change through their
services too (history, constraints, notices)."""

from django.contrib import admin

from appointments.models import Appointment, AppointmentStatusChange, Break, TimeOff, WorkingHours
from medplatform.admin_readonly import ReadOnlyModelAdmin, ReadOnlyTabularInline


@admin.register(WorkingHours)
class WorkingHoursAdmin(ReadOnlyModelAdmin):
    list_display = ["doctor", "clinic", "weekday", "start_time", "end_time", "slot_minutes"]
    list_filter = ["weekday", "clinic"]
    list_select_related = ["doctor__user", "clinic"]


@admin.register(Break)
class BreakAdmin(ReadOnlyModelAdmin):
    list_display = ["doctor", "clinic", "weekday", "start_time", "end_time"]
    list_select_related = ["doctor__user", "clinic"]


@admin.register(TimeOff)
class TimeOffAdmin(ReadOnlyModelAdmin):
    list_display = ["doctor", "start", "end"]
    list_select_related = ["doctor__user"]


class StatusChangeInline(ReadOnlyTabularInline):
    model = AppointmentStatusChange
    fields = ["from_status", "to_status", "actor_role", "reason", "previous_start", "at"]
    readonly_fields = fields


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyModelAdmin):
    """The visit reason and exam type are not shown here (special-category data)."""

    list_display = ["id", "doctor", "clinic", "start", "status", "visit_type"]
    list_filter = ["status", "visit_type"]
    fields = ["id", "patient", "doctor", "clinic", "start", "end", "status", "visit_type"]
    readonly_fields = fields
    inlines = [StatusChangeInline]
