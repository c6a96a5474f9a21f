"""The database's guarantee against double booking, portable across our two databases.

PostgreSQL enforces "no two booked appointments of one doctor (or one patient) overlap" with an
exclusion constraint over a time range (btree_gist). SQLite has no such constraint: there the
same migration adds nothing for it, and the unique (doctor, start) constraint plus the overlap
check inside an IMMEDIATE transaction (SQLite has one writer at a time) carry the guarantee.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that is a no-op on databases other than PostgreSQL."""

    @staticmethod
    def _on_postgres(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


def no_overlap(*, name: str, party: str, condition) -> PostgresExclusionConstraint:
    """No two rows with the same `party` whose [start, end) ranges overlap, among `condition`."""
    return PostgresExclusionConstraint(
        name=name,
        expressions=[
            (party, RangeOperators.EQUAL),
            (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
        ],
        condition=condition,
        violation_error_code="slot_unavailable",
    )
