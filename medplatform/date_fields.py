"""Date and time inputs inside the years the platform can store and compute with.

A year-9999 or year-0001 input overflows as soon as it is moved to UTC or a day is added to it;
every API date and time is refused outside 1900-2100 with 400 validation_error instead."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute

EARLIEST_YEAR = 1900
LATEST_YEAR = 2100
OUT_OF_RANGE = _("Give a date between the years 1900 and 2100.")


def check_year(value: date | datetime) -> None:
    """Refuse (400 validation_error) a date or time outside the supported years."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(OUT_OF_RANGE, code="out_of_range")


class InRangeDateField(serializers.DateField):
    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        check_year(day)
        return day


class InRangeDateTimeField(serializers.DateTimeField):
    def enforce_timezone(self, value):
        # before the conversion to UTC, which is where year 9999 at -12:00 overflows
        check_year(value)
        return super().enforce_timezone(value)


def clinic_time(instant: datetime, timezone_name: str | None = None) -> str:
    """An instant as ISO 8601 with the clinic's offset (DEFAULT_CLINIC_TIMEZONE without a clinic)."""
    return instant.astimezone(ZoneInfo(timezone_name or settings.DEFAULT_CLINIC_TIMEZONE)).isoformat()


@extend_schema_field({"type": "string", "format": "date-time", "readOnly": True})
class ClinicDateTimeField(serializers.DateTimeField):
    """Every time the API sends: ISO 8601 with the offset of the object's clinic, found through
    `timezone_from` (a dotted path from the object to a time-zone name, such as
    "clinic.timezone"), else of DEFAULT_CLINIC_TIMEZONE. Never UTC's `Z` unless the clinic is there."""

    def __init__(self, *, timezone_from: str | None = None, **kwargs):
        kwargs["read_only"] = True
        self.timezone_from = timezone_from.split(".") if timezone_from else None
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if value is None:
            return None
        name = None
        if self.timezone_from:
            try:
                name = get_attribute(instance, self.timezone_from)
            except (AttributeError, KeyError):
                name = None
        return (value, name)

    def to_representation(self, value):
        instant, timezone_name = value
        return clinic_time(instant, timezone_name)
