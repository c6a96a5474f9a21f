"""Codes shown as their translated labels (statuses, visit types, days, health-profile groups)."""

from django import template
from django.utils.translation import gettext_lazy as _

from appointments.confirmation import confirmation_state
from appointments.models import Appointment, VisitType, Weekday
from health_profiles.models import Severity

register = template.Library()

GROUP_LABELS = {
    "allergies": _("Allergies"),
    "medications": _("Medications"),
    "conditions": _("Conditions"),
    "treatments": _("Treatments"),
}


def _label(choices, code):
    try:
        return choices(code).label
    except ValueError:
        return code


@register.filter
def status_label(code):
    return _label(Appointment.Status, code) if code else "—"


@register.filter
def visit_type_label(code):
    return _label(VisitType, code)


@register.filter
def weekday_label(number):
    return _label(Weekday, number)


@register.filter
def severity_label(code):
    return _label(Severity, code)


@register.filter
def group_label(code):
    return GROUP_LABELS.get(code, code)


@register.filter
def confirmation(appointment):
    """The visit's confirmation state (appointments.confirmation.confirmation_state), or None."""
    return confirmation_state(appointment)
