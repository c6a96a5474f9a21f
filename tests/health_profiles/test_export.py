import pytest
from fhir.resources.R4B.bundle import Bundle

from privacy.models import AuditEntry
from tests.health_profiles.scenario import ENTRY_VALUES, appointment_row, full_profile, share_with

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/health-profile/export/"


def test_the_fhir_export_is_a_valid_r4_bundle_of_the_whole_profile(as_user, patient_ayse, doctor_x, clinic_x):
    entries = full_profile(patient_ayse)
    appointment_row(patient_ayse, doctor_x, clinic_x, days_ahead=2, visit_reason="Bas agrisi", exam_type="Muayene")

    response = as_user(patient_ayse).get(EXPORT, {"format": "fhir"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "collection"
    by_type = {}
    for item in bundle.entry:
        by_type.setdefault(item.resource.get_resource_type(), []).append(item.resource)
    assert set(by_type) == {
        "Patient",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Procedure",
        "Appointment",
    }
    allergy = by_type["AllergyIntolerance"][0]
    assert (allergy.id, allergy.code.text) == (str(entries["allergy"].id), ENTRY_VALUES["allergy"]["name"])
    assert allergy.reaction[0].severity == "severe"
    assert allergy.patient.reference == f"urn:uuid:{patient_ayse.id}"
    assert by_type["MedicationStatement"][0].dosage[0].text == ENTRY_VALUES["medication"]["dose"]
    assert str(by_type["Condition"][0].recordedDate) == "2019-04-02"
    procedure = by_type["Procedure"][0]
    assert (procedure.status, str(procedure.performedPeriod.end)) == ("completed", "2024-03-01")
    assert by_type["Appointment"][0].status == "booked"
    assert by_type["Appointment"][0].reasonCode[0].text == "Bas agrisi"


def test_the_fhir_export_of_an_empty_profile_is_valid_too(as_user, patient_mehmet):
    response = as_user(patient_mehmet).get(EXPORT, {"format": "fhir"})

    bundle = Bundle.model_validate(response.json())
    assert [item.resource.get_resource_type() for item in bundle.entry] == ["Patient"]


def test_the_json_export_holds_profile_consents_shares_and_access_log(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])

    response = as_user(patient_ayse).get(EXPORT, {"format": "json"})

    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["email"] == patient_ayse.email
    assert body["health_profile"]["allergies"][0]["name"] == ENTRY_VALUES["allergy"]["name"]
    assert [c["purpose"] for c in body["consents"]] == ["health_profile_storage", "health_profile_share"]
    assert body["shares"][0]["doctor"] == str(doctor_x.id)
    assert "consent_granted:health_profile_share" in [entry["action"] for entry in body["access_log"]]


def test_every_export_is_audited_without_health_values(as_user, patient_ayse):
    full_profile(patient_ayse)

    as_user(patient_ayse).get(EXPORT, {"format": "fhir"})

    audit = AuditEntry.objects.get(action="health_profile_exported")
    assert (audit.actor, audit.patient) == (patient_ayse, patient_ayse)
    assert audit.categories == ["allergy", "condition", "medication", "treatment"]
    assert audit.metadata["format"] == "fhir" and audit.metadata["entries"] == 4


def test_an_unknown_export_format_is_a_validation_error(as_user, patient_ayse):
    response = as_user(patient_ayse).get(EXPORT, {"format": "xml"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["format"]
    assert not AuditEntry.objects.filter(action="health_profile_exported").exists()


def test_json_is_the_default_export_format(as_user, patient_ayse):
    response = as_user(patient_ayse).get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "health_profile" in response.json()
