"""Nothing a patient tells us about their health is stored readable: not in the columns, not in a
full dump of the database."""

import datetime

import pytest
from django.db import connection

from health_profiles.models import HealthEntry
from medplatform.encryption import EncryptedDateField, EncryptedTextField, keyed_hash
from tests.health_profiles.scenario import ENTRY_VALUES, PLAINTEXTS, appointment_row, full_profile

pytestmark = pytest.mark.django_db

NATIONAL_ID = "10000000146"
VISIT_REASON = "Gogus-agrisi-ZQX"
EXAM_TYPE = "Efor-testi-ZQX"
DATES = [
    value.isoformat()
    for values in ENTRY_VALUES.values()
    for value in values.values()
    if isinstance(value, datetime.date)
]


def needles() -> list[str]:
    values = [*PLAINTEXTS, NATIONAL_ID, VISIT_REASON, EXAM_TYPE]
    # A value stored unencrypted in a binary column would show as hex in a dump.
    return values + [value.encode().hex() for value in values] + [f'"{date}"'.encode().hex() for date in DATES]


@pytest.fixture
def stored(patient_ayse, doctor_x, clinic_x):
    full_profile(patient_ayse)
    patient_ayse.national_id = NATIONAL_ID
    patient_ayse.national_id_hash = keyed_hash(NATIONAL_ID, purpose="national_id")
    patient_ayse.save(update_fields=["national_id", "national_id_hash"])
    return appointment_row(
        patient_ayse, doctor_x, clinic_x, days_ahead=3, visit_reason=VISIT_REASON, exam_type=EXAM_TYPE
    )


def full_dump() -> str:
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608 (table names from introspection)
            rows += [f"{table}: {row[0]}" for row in cursor.fetchall()]
    return "\n".join(rows)


def test_every_health_column_holds_ciphertext_only(stored):
    encrypted = [
        field.column
        for field in HealthEntry._meta.get_fields()
        if isinstance(field, EncryptedTextField | EncryptedDateField)
    ]
    assert set(encrypted) == {
        "name",
        "details",
        "reaction",
        "severity",
        "dose",
        "frequency",
        "diagnosed_on",
        "started_on",
        "ended_on",
    }

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(encrypted)} FROM health_profiles_healthentry")  # noqa: S608
        rows = cursor.fetchall()

    assert len(rows) == 4
    raw = [bytes(value) for row in rows for value in row if value is not None]
    assert len(raw) == 4 * 2 + 2 + 2 + 1 + 2  # name and details everywhere, plus each category's fields
    for value in raw:
        for needle in [*PLAINTEXTS, *DATES, "severe"]:
            assert needle.encode() not in value


def test_a_full_dump_of_the_database_has_no_health_value_national_id_or_visit_reason(stored, patient_ayse):
    dump = full_dump()

    assert patient_ayse.email in dump  # the dump is real: plain personal data is there
    assert HealthEntry.objects.count() == 4
    assert str(stored.pk).replace("-", "") in dump.replace("-", "")
    leaks = [needle for needle in needles() if needle in dump]
    assert leaks == []


def test_the_values_read_back_through_the_model(stored, patient_ayse):
    allergy = HealthEntry.objects.get(category="allergy")
    treatment = HealthEntry.objects.get(category="treatment")

    assert (allergy.name, allergy.severity) == (ENTRY_VALUES["allergy"]["name"], "severe")
    assert treatment.ended_on == ENTRY_VALUES["treatment"]["ended_on"]
    patient_ayse.refresh_from_db()
    assert patient_ayse.national_id == NATIONAL_ID
