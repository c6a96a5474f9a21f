"""Output shapes shared by the API views and the JSON export."""

from rest_framework import serializers

from health_profiles.models import CATEGORY_FIELDS, SPECIFIC_FIELDS, HealthEntry


class EntryOutput(serializers.ModelSerializer):
    """An entry with the fields of its own category only."""

    class Meta:
        model = HealthEntry
        fields = ["id", "category", "name", "details", *SPECIFIC_FIELDS, "created_at", "updated_at"]

    def to_representation(self, entry: HealthEntry) -> dict:
        data = super().to_representation(entry)
        for field in SPECIFIC_FIELDS:
            if field not in CATEGORY_FIELDS[entry.category]:
                data.pop(field, None)
        return data


def grouped_output(grouped: dict[str, list[HealthEntry]]) -> dict[str, list[dict]]:
    return {group: EntryOutput(entries, many=True).data for group, entries in grouped.items()}
