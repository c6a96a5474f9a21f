"""The FHIR R4 export: one `collection` Bundle with the patient, their profile and appointments.

Resources are plain dicts (the API renders them as JSON); tests validate them with `fhir.resources`.
Every resource is referenced by `urn:uuid:<id>`, so the bundle stands on its own.
"""

from django.utils import timezone

from accounts.models import User
from health_profiles.models import Category, HealthEntry

# Our appointment states in FHIR's Appointment.status vocabulary.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled_by_patient": "cancelled",
    "cancelled_by_clinic": "cancelled",
}


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def _notes(entry: HealthEntry) -> list[dict]:
    return [{"text": entry.details}] if entry.details else []


def _text(value: str) -> dict:
    return {"text": value}


def patient_resource(patient: User) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "telecom": [{"system": "email", "value": patient.email}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]}, "preferred": True}
        ],
    }
    if patient.phone:
        resource["telecom"].append({"system": "phone", "value": str(patient.phone)})
    return resource


def allergy_resource(entry: HealthEntry, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "AllergyIntolerance",
        "id": str(entry.id),
        "patient": patient_ref,
        "code": _text(entry.name),
        "recordedDate": entry.created_at.isoformat(),
        "note": _notes(entry),
    }
    if entry.reaction or entry.severity:
        reaction = {"manifestation": [_text(entry.reaction or "unspecified")]}
        if entry.severity:
            reaction["severity"] = entry.severity
        resource["reaction"] = [reaction]
    return resource


def medication_resource(entry: HealthEntry, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "MedicationStatement",
        "id": str(entry.id),
        "status": "active",
        "medicationCodeableConcept": _text(entry.name),
        "subject": patient_ref,
        "dateAsserted": entry.created_at.isoformat(),
        "note": _notes(entry),
    }
    if entry.dose or entry.frequency:
        dosage: dict = {}
        if entry.dose:
            dosage["text"] = entry.dose
        if entry.frequency:
            dosage["timing"] = {"code": _text(entry.frequency)}
        resource["dosage"] = [dosage]
    return resource


def condition_resource(entry: HealthEntry, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "Condition",
        "id": str(entry.id),
        "subject": patient_ref,
        "code": _text(entry.name),
        "note": _notes(entry),
    }
    if entry.diagnosed_on:
        resource["recordedDate"] = entry.diagnosed_on.isoformat()
    return resource


def procedure_resource(entry: HealthEntry, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "Procedure",
        "id": str(entry.id),
        "status": "completed" if entry.ended_on else "in-progress",
        "subject": patient_ref,
        "code": _text(entry.name),
        "note": _notes(entry),
    }
    period = {}
    if entry.started_on:
        period["start"] = entry.started_on.isoformat()
    if entry.ended_on:
        period["end"] = entry.ended_on.isoformat()
    if period:
        resource["performedPeriod"] = period
    return resource


def appointment_resource(appointment, patient_ref: dict) -> dict:
    doctor = getattr(appointment, "doctor", None)
    participants = [{"actor": patient_ref, "status": "accepted"}]
    if doctor is not None:
        participants.append({"actor": {"display": doctor.name}, "status": "accepted"})
    resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "status": APPOINTMENT_STATUS.get(getattr(appointment, "status", ""), "booked"),
        "participant": participants,
    }
    for field in ("start", "end"):
        value = getattr(appointment, field, None)
        if value is not None:
            resource[field] = value.isoformat()
    if getattr(appointment, "visit_reason", None):
        resource["reasonCode"] = [_text(appointment.visit_reason)]
    if getattr(appointment, "exam_type", None):
        resource["serviceType"] = [_text(appointment.exam_type)]
    return resource


ENTRY_RESOURCE = {
    Category.ALLERGY: allergy_resource,
    Category.MEDICATION: medication_resource,
    Category.CONDITION: condition_resource,
    Category.TREATMENT: procedure_resource,
}


def _without_empty(resource: dict) -> dict:
    # FHIR forbids empty arrays and objects.
    return {key: value for key, value in resource.items() if value not in ([], {}, None, "")}


def bundle_for(*, patient: User, entries: list[HealthEntry], appointments: list) -> dict:
    patient_ref = {"reference": _urn(patient.pk)}
    resources = [patient_resource(patient)]
    resources += [ENTRY_RESOURCE[entry.category](entry, patient_ref) for entry in entries]
    resources += [appointment_resource(appointment, patient_ref) for appointment in appointments]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": _urn(resource["id"]), "resource": _without_empty(resource)} for resource in resources],
    }
