"""Date and time inputs inside the years the platform can store and compute with.

A year-9999 or year-0001 input overflows as soon as it is moved to UTC or a day is added to it;
every API date and time is refused outside 1900-2100 with 400 validation_error instead."""

from datetime import date, datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

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
