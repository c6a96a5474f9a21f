"""Output shapes shared by the API views and the JSON export."""

import datetime

from rest_framework import serializers

from health_profiles.models import CATEGORY_FIELDS, SPECIFIC_FIELDS, HealthEntry
from medplatform.date_fields import ClinicDateTimeField, clinic_time


class EntryOutput(serializers.ModelSerializer):
    """An entry with the fields of its own category only."""

    created_at = ClinicDateTimeField()
    updated_at = ClinicDateTimeField()

    class Meta:
        model = HealthEntry
        fields = ["id", "category", "name", "details", *SPECIFIC_FIELDS, "created_at", "updated_at"]

    def to_representation(self, entry: HealthEntry) -> dict:
        # Built by hand: a doctor's read renders every entry of a profile, and DRF's generic
        # field machinery cost more than decrypting them (see docs/performance.md).
        data = {"id": str(entry.id), "category": entry.category, "name": entry.name, "details": entry.details}
        for field in CATEGORY_FIELDS[entry.category]:
            value = getattr(entry, field)
            data[field] = value.isoformat() if isinstance(value, datetime.date) else value
        data["created_at"] = clinic_time(entry.created_at)
        data["updated_at"] = clinic_time(entry.updated_at)
        return data


def grouped_output(grouped: dict[str, list[HealthEntry]]) -> dict[str, list[dict]]:
    return {group: EntryOutput(entries, many=True).data for group, entries in grouped.items()}
