import datetime

import pytest
from django.utils import timezone

from health_profiles.models import HealthEntry
from privacy.models import ConsentText, Purpose
from privacy.services import consent_active_grants, consent_withdraw
from tests.health_profiles.scenario import ENTRY_VALUES, add_entry, full_profile, grant_storage

pytestmark = pytest.mark.django_db

ENTRIES = "/api/v1/health-profile/entries/"


def body(category: str) -> dict:
    values = {
        key: (value.isoformat() if isinstance(value, datetime.date) else value)
        for key, value in ENTRY_VALUES[category].items()
    }
    return {"category": category, **values}


@pytest.mark.parametrize("category", list(ENTRY_VALUES))
def test_a_patient_with_storage_consent_adds_an_entry_of_each_category(as_user, patient_ayse, category):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(ENTRIES, body(category), format="json")

    assert response.status_code == 201, response.json()
    assert {key: response.json()[key] for key in body(category)} == body(category)
    entry = HealthEntry.objects.get(id=response.json()["id"])
    assert (entry.patient, entry.category, entry.name) == (patient_ayse, category, ENTRY_VALUES[category]["name"])


def test_only_the_fields_of_the_entrys_category_are_shown(as_user, patient_ayse):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(ENTRIES, body("medication"), format="json")

    assert set(response.json()) == {
        "id",
        "category",
        "name",
        "details",
        "dose",
        "frequency",
        "created_at",
        "updated_at",
    }


def test_without_storage_consent_an_entry_is_refused_with_consent_required(as_user, patient_ayse):
    response = as_user(patient_ayse).post(ENTRIES, body("allergy"), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert HealthEntry.objects.count() == 0


def test_after_withdrawing_storage_consent_writes_are_refused(as_user, patient_ayse):
    grant = grant_storage(patient_ayse)
    consent_withdraw(subject=patient_ayse, grant_id=grant.id)

    response = as_user(patient_ayse).post(ENTRIES, body("allergy"), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"


def test_a_new_notice_version_needs_a_new_consent_before_writing(as_user, patient_ayse):
    entry = full_profile(patient_ayse)["allergy"]
    for language in ("tr", "en"):
        ConsentText.objects.create(purpose=Purpose.HEALTH_PROFILE_STORAGE, version=2, language=language, text="v2")

    created = as_user(patient_ayse).post(ENTRIES, body("allergy"), format="json")
    patched = as_user(patient_ayse).patch(f"{ENTRIES}{entry.id}/", {"details": "x"}, format="json")

    assert (created.status_code, created.json()["code"]) == (403, "consent_required")
    assert (patched.status_code, patched.json()["code"]) == (403, "consent_required")
    assert not consent_active_grants(subject=patient_ayse, purpose=Purpose.HEALTH_PROFILE_STORAGE).exists()


def test_an_allergy_needs_a_severity(as_user, patient_ayse):
    grant_storage(patient_ayse)
    allergy = body("allergy")
    del allergy["severity"]

    response = as_user(patient_ayse).post(ENTRIES, allergy, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["severity"]


def test_an_unknown_severity_is_refused_without_repeating_the_value(as_user, patient_ayse):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(ENTRIES, {**body("allergy"), "severity": "Secret-ZQX"}, format="json")

    assert response.status_code == 400
    assert "severity" in response.json()["fields"]
    assert "Secret-ZQX" not in response.content.decode()


def test_fields_of_another_category_are_refused(as_user, patient_ayse):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(ENTRIES, {**body("condition"), "dose": "10mg"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["dose"]


def test_a_treatment_cannot_end_before_it_starts(as_user, patient_ayse):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(
        ENTRIES, {**body("treatment"), "started_on": "2024-03-01", "ended_on": "2024-01-01"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ended_on"]


def test_a_diagnosis_date_cannot_be_in_the_future(as_user, patient_ayse):
    grant_storage(patient_ayse)
    next_year = timezone.localdate() + datetime.timedelta(days=400)

    response = as_user(patient_ayse).post(
        ENTRIES, {**body("condition"), "diagnosed_on": next_year.isoformat()}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["diagnosed_on"]


def test_a_patient_changes_an_entry_but_not_its_category(as_user, patient_ayse):
    entry = full_profile(patient_ayse)["medication"]
    client = as_user(patient_ayse)

    changed = client.patch(f"{ENTRIES}{entry.id}/", {"dose": "850mg"}, format="json")
    recategorised = client.patch(f"{ENTRIES}{entry.id}/", {"category": "allergy"}, format="json")

    assert changed.status_code == 200
    assert changed.json()["dose"] == "850mg"
    entry.refresh_from_db()
    assert (entry.dose, entry.name) == ("850mg", ENTRY_VALUES["medication"]["name"])
    assert recategorised.status_code == 400
    assert list(recategorised.json()["fields"]) == ["category"]


def test_a_patient_deletes_an_entry_even_when_the_storage_consent_is_no_longer_current(as_user, patient_ayse):
    grant_storage(patient_ayse)
    entry = add_entry(patient_ayse, "allergy")
    kept = add_entry(patient_ayse, "condition")
    ConsentText.objects.create(purpose=Purpose.HEALTH_PROFILE_STORAGE, version=2, language="tr", text="v2")

    response = as_user(patient_ayse).delete(f"{ENTRIES}{entry.id}/")

    assert response.status_code == 204
    assert list(HealthEntry.objects.values_list("id", flat=True)) == [kept.id]


def test_the_profile_groups_the_patients_entries_by_category(as_user, patient_ayse):
    entries = full_profile(patient_ayse)

    response = as_user(patient_ayse).get("/api/v1/health-profile/")

    assert response.status_code == 200
    assert {group: [item["id"] for item in items] for group, items in response.json().items()} == {
        "allergies": [str(entries["allergy"].id)],
        "medications": [str(entries["medication"].id)],
        "conditions": [str(entries["condition"].id)],
        "treatments": [str(entries["treatment"].id)],
    }


def test_the_entry_list_is_paginated_in_a_fixed_number_of_queries(as_user, patient_ayse, django_assert_num_queries):
    full_profile(patient_ayse)
    client = as_user(patient_ayse)

    # 1 user for the JWT, 1 count, 1 page of entries (decrypted in Python, no per-row query).
    with django_assert_num_queries(3):
        response = client.get(ENTRIES)

    assert response.json()["count"] == 4


def test_another_patients_entry_is_not_found(as_user, patient_ayse, patient_mehmet):
    entry = full_profile(patient_ayse)["allergy"]
    client = as_user(patient_mehmet)

    assert client.get(f"{ENTRIES}{entry.id}/").status_code == 404
    assert client.patch(f"{ENTRIES}{entry.id}/", {"details": "x"}, format="json").status_code == 404
    assert client.delete(f"{ENTRIES}{entry.id}/").status_code == 404
    assert HealthEntry.objects.filter(id=entry.id).exists()
