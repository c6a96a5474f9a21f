"""doctor_list_rows renders doctor search's rows by hand: exactly what DoctorListOutput renders."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from accounts.models import Doctor
from accounts.serializers import DoctorListOutput, doctor_list_rows
from appointments import search
from tests.factories import ClinicFactory, DoctorFactory, specialty

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["tr", "en"])
def test_it_renders_what_the_serializer_renders(clinic_x, language):
    berlin = ClinicFactory(name="Klinik B", city="Berlin", timezone="Europe/Berlin")
    no_clinic = DoctorFactory(title="")
    one = DoctorFactory(clinics=[clinic_x], specialty=specialty("dermatology"))
    two = DoctorFactory(clinics=[berlin, clinic_x])
    Doctor.objects.filter(pk=one.pk).update(rating_sum=14, rating_count=3)
    soon = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    next_available = {one.id: soon, two.id: soon, no_clinic.id: soon}
    doctors = list(search.doctor_list(ordering="name"))
    assert {d.id for d in doctors} == {no_clinic.id, one.id, two.id}

    with translation.override(language):
        expected = DoctorListOutput(doctors, many=True, context={"next_available": next_available}).data
        rows = doctor_list_rows(doctors, next_available)
        without = doctor_list_rows(doctors, {})
        expected_without = DoctorListOutput(doctors, many=True, context={"next_available": {}}).data

    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same key order
    assert {row["rating_avg"] for row in rows} == {None, 4.67}
    assert {row["next_available"] for row in rows} == {
        "2026-12-01T10:30:00+03:00",  # Istanbul: the first clinic's zone
        "2026-12-01T08:30:00+01:00",  # Berlin, first by name
    }
    assert without == expected_without
