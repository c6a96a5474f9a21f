from datetime import timedelta

import pytest

from appointments.demo import create_demo_schedule
from appointments.models import VisitType
from appointments.services import appointment_cancel
from health_profiles.services import entry_create
from privacy.models import AuditEntry
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.health_profiles.fhir_validator import r4_validate
from tests.health_profiles.scenario import (
    ENTRY_VALUES,
    full_profile,
    grant_storage,
    share_with,
)

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/health-profile/export/"
FHIR = "application/fhir+json"
NATIONAL_ID = "10000000146"


@pytest.fixture
def everything(patient_ayse, doctor_x, clinic_x):
    """Ayşe with her national id, one entry of each category, a booked in-person visit, a visit
    she cancelled and a booked online visit, all with doctor_x at clinic_x."""
    patient_ayse.national_id = NATIONAL_ID
    patient_ayse.save()
    entries = full_profile(patient_ayse)
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    day = working_day()
    visits = {
        "in_person": book(patient_ayse, doctor_x, at(day, 10), exam_type="EKG", visit_type=VisitType.IN_PERSON),
        "cancelled": book(patient_ayse, doctor_x, at(day + timedelta(days=1), 10), visit_type=VisitType.IN_PERSON),
        "online": book(patient_ayse, doctor_x, at(day + timedelta(days=2), 11), visit_type=VisitType.ONLINE),
    }
    visits["cancelled"] = appointment_cancel(appointment=visits["cancelled"], actor=patient_ayse, reason="Seyahat")
    return entries, visits


def resources_of(bundle: dict) -> dict[str, list[dict]]:
    by_type: dict[str, list[dict]] = {}
    for item in bundle["entry"]:
        by_type.setdefault(item["resource"]["resourceType"], []).append(item["resource"])
    return by_type


def test_the_fhir_export_of_everything_passes_the_independent_r4_validator(as_user, patient_ayse, everything):
    response = as_user(patient_ayse).get(EXPORT, {"format": "fhir"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR)
    bundle = response.json()
    assert set(resources_of(bundle)) == {
        "Patient",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Procedure",
        "Appointment",
        "Practitioner",
        "Organization",
        "Location",
    }
    result = r4_validate(bundle)
    # The R4 schema, cardinalities and invariants (ait-1, app-3, dom-6 and the rest) over every
    # resource: thousands of checks, none failing, not even the warnings.
    assert result["checks"] > 1000
    assert (result["errors"], result["warnings"]) == ([], [])


def test_the_validator_catches_a_broken_invariant(as_user, patient_ayse, everything):
    bundle = as_user(patient_ayse).get(EXPORT, {"format": "fhir"}).json()
    allergy = resources_of(bundle)["AllergyIntolerance"][0]
    del allergy["clinicalStatus"]
    del allergy["text"]

    result = r4_validate(bundle)

    assert [error["key"] for error in result["errors"]] == ["ait-1"]
    assert [warning["key"] for warning in result["warnings"]] == ["dom-6"]


def test_the_fhir_resources_carry_what_the_profile_holds(as_user, patient_ayse, everything, doctor_x, clinic_x):
    entries, visits = everything

    by_type = resources_of(as_user(patient_ayse).get(EXPORT, {"format": "fhir"}).json())

    (patient,) = by_type["Patient"]
    (national_id,) = patient["identifier"]
    assert national_id["type"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
        "code": "NI",
        "display": "National unique individual identifier",
    }
    assert (national_id["system"], national_id["value"]) == (
        "https://medplatform.invalid/fhir/sid/tr-national-id",
        NATIONAL_ID,
    )
    (allergy,) = by_type["AllergyIntolerance"]
    assert allergy["id"] == str(entries["allergy"].id)
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
    assert allergy["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert allergy["criticality"] == "high"
    assert allergy["reaction"] == [
        {"manifestation": [{"text": ENTRY_VALUES["allergy"]["reaction"]}], "severity": "severe"}
    ]
    (condition,) = by_type["Condition"]
    assert condition["onsetDateTime"] == "2019-04-02"
    assert condition["recordedDate"] != "2019-04-02"
    assert by_type["MedicationStatement"][0]["status"] == "active"
    assert by_type["MedicationStatement"][0]["dosage"][0]["text"] == ENTRY_VALUES["medication"]["dose"]
    procedure = by_type["Procedure"][0]
    assert (procedure["status"], procedure["performedPeriod"]) == (
        "completed",
        {"start": "2024-01-08", "end": "2024-03-01"},
    )
    (practitioner,) = by_type["Practitioner"]
    assert practitioner["id"] == str(doctor_x.id)
    assert practitioner["identifier"][0]["value"] == doctor_x.registration_number
    assert practitioner["identifier"][0]["type"]["coding"][0]["code"] == "MD"
    (location,) = by_type["Location"]
    assert location["address"]["line"] == [clinic_x.address]
    assert location["managingOrganization"]["reference"] == f"urn:uuid:{clinic_x.id}"
    assert by_type["Organization"][0]["name"] == clinic_x.name
    assert all(resource["text"]["status"] == "generated" for items in by_type.values() for resource in items)
    assert ENTRY_VALUES["allergy"]["name"] in allergy["text"]["div"]


def test_the_fhir_appointments_say_who_cancelled_and_where_in_the_clinics_offset(
    as_user, patient_ayse, everything, doctor_x, clinic_x
):
    _, visits = everything

    appointments = {
        item["id"]: item
        for item in resources_of(as_user(patient_ayse).get(EXPORT, {"format": "fhir"}).json())["Appointment"]
    }

    in_person, cancelled, online = (appointments[str(visits[key].id)] for key in ("in_person", "cancelled", "online"))
    assert in_person["status"] == "booked" and "cancelationReason" not in in_person
    assert in_person["start"] == visits["in_person"].start.astimezone(at(working_day(), 0).tzinfo).isoformat()
    assert in_person["start"].endswith("+03:00")
    assert [p["actor"]["reference"] for p in in_person["participant"]] == [
        f"urn:uuid:{patient_ayse.id}",
        f"urn:uuid:{doctor_x.id}",
        f"urn:uuid:{location_of(in_person)}",
    ]
    assert in_person["serviceType"] == [{"text": "EKG"}]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelationReason"]["coding"][0]["code"] == "pat"
    assert [p["status"] for p in cancelled["participant"]] == ["declined", "accepted", "accepted"]
    assert online["status"] == "booked"
    # An online visit happens nowhere in particular: no Location participant.
    assert [p["actor"]["reference"] for p in online["participant"]] == [
        f"urn:uuid:{patient_ayse.id}",
        f"urn:uuid:{doctor_x.id}",
    ]


def location_of(appointment: dict) -> str:
    return appointment["participant"][2]["actor"]["reference"].removeprefix("urn:uuid:")


def test_an_allergy_without_a_described_reaction_gets_no_placeholder(as_user, patient_ayse):
    grant_storage(patient_ayse)
    entry_create(patient=patient_ayse, category="allergy", values={"name": "Polen", "severity": "mild"})
    entry_create(patient=patient_ayse, category="allergy", values={"name": "Toz", "severity": "moderate"})

    bundle = as_user(patient_ayse).get(EXPORT, {"format": "fhir"}).json()

    mild, moderate = resources_of(bundle)["AllergyIntolerance"]
    assert ("reaction" not in mild, mild["criticality"]) == (True, "low")
    assert ("reaction" not in moderate, moderate["criticality"]) == (True, "low")
    assert "unspecified" not in str(bundle)
    assert r4_validate(bundle)["errors"] == []


def test_the_fhir_export_of_an_empty_profile_is_valid_too(as_user, patient_mehmet):
    response = as_user(patient_mehmet).get(EXPORT, {"format": "fhir"})

    bundle = response.json()
    assert [item["resource"]["resourceType"] for item in bundle["entry"]] == ["Patient"]
    assert "identifier" not in bundle["entry"][0]["resource"]
    assert r4_validate(bundle)["errors"] == []


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ({}, FHIR),
        ({}, f"application/json;q=0.5, {FHIR};fhirVersion=4.0"),
        ({"_format": "json"}, None),
        ({"_format": FHIR}, None),
        ({"_format": "application/json"}, "application/json"),
    ],
)
def test_fhir_is_chosen_by_accept_or_format(as_user, patient_ayse, query, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = as_user(patient_ayse).get(EXPORT, query, **headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR)
    assert response.json()["resourceType"] == "Bundle"


@pytest.mark.parametrize("accept", [None, "application/json", f"{FHIR};q=0, application/json"])
def test_json_is_chosen_without_a_fhir_request(as_user, patient_ayse, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = as_user(patient_ayse).get(EXPORT, **headers)

    assert response["Content-Type"].startswith("application/json")
    assert "health_profile" in response.json()


def test_an_unknown_fhir_format_is_a_validation_error(as_user, patient_ayse):
    response = as_user(patient_ayse).get(EXPORT, {"_format": "xml"}, HTTP_ACCEPT_LANGUAGE="tr")

    assert response.status_code == 400
    assert response.json()["fields"]["_format"] == ["json veya application/fhir+json kullanın."]


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
