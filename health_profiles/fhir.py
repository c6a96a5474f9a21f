"""The FHIR R4 export: one `collection` Bundle with the patient, their profile, their appointments
and the doctors and clinics those appointments name.

Built with fhirclient's FHIR R4 (4.0.1) model classes: every element has its R4 type, and
`as_json()` refuses a wrong type or a missing required element. CI checks the result with an
independent R4 validator (tools/fhir-validate: the R4 JSON schema and every R4 invariant).
docs/fhir.md describes the mapping and the identifier systems. Every resource is referenced by
`urn:uuid:<id>`, so the bundle stands on its own. Instants are written in the clinic's offset;
what belongs to no clinic (the profile's own entries, the bundle's timestamp) in the offset of the
platform's default clinic zone.
"""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from fhirclient.models import (
    address,
    allergyintolerance,
    annotation,
    appointment,
    bundle,
    codeableconcept,
    coding,
    condition,
    contactpoint,
    dosage,
    fhirreference,
    humanname,
    identifier,
    location,
    medicationstatement,
    narrative,
    organization,
    patient,
    period,
    practitioner,
    procedure,
    timing,
)
from fhirclient.models.fhirabstractbase import FHIRAbstractBase
from fhirclient.models.fhirdatetime import FHIRDateTime
from fhirclient.models.fhirinstant import FHIRInstant

from accounts.models import Clinic, Doctor, User
from health_profiles.models import Category, HealthEntry, Severity

V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CANCELLATION_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
LANGUAGE = "urn:ietf:bcp:47"


def national_id_system() -> str:
    return f"{settings.FHIR_IDENTIFIER_SYSTEM_BASE}/tr-national-id"


def registration_number_system() -> str:
    return f"{settings.FHIR_IDENTIFIER_SYSTEM_BASE}/doctor-registration-number"


# Our appointment states in FHIR's Appointment.status vocabulary.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled_by_patient": "cancelled",
    "cancelled_by_clinic": "cancelled",
    "released": "cancelled",
}
# Who cancelled, in R4's appointment-cancellation-reason codes.
CANCELLATION = {
    "cancelled_by_patient": ("pat", "Patient"),
    "cancelled_by_clinic": ("prov", "Provider"),
    # not confirmed by the clinic's deadline (docs/confirmation.md): the patient's side
    "released": ("pat", "Patient"),
}
# The entries' instants belong to no clinic: they are written in the default clinic zone.
DEFAULT_ZONE = ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE)


def _element(cls: type[FHIRAbstractBase], **values) -> FHIRAbstractBase:
    """A model element with the given values; empty ones are left out, unknown names refused."""
    element = cls()
    for name, value in values.items():
        if not hasattr(element, name):
            raise AttributeError(f"{cls.__name__} has no element {name}")
        if value not in (None, "", []):
            setattr(element, name, value)
    return element


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def _reference(resource_id, display: str | None = None) -> fhirreference.FHIRReference:
    return _element(fhirreference.FHIRReference, reference=_urn(resource_id), display=display)


def _concept(text: str | None = None, *, system: str | None = None, code: str | None = None, display=None):
    codings = [_element(coding.Coding, system=system, code=code, display=display)] if code else []
    return _element(codeableconcept.CodeableConcept, coding=codings, text=text)


def _narrative(*lines: str) -> narrative.Narrative:
    """The human-readable summary R4 asks of every resource (dom-6), as escaped XHTML."""
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return _element(
        narrative.Narrative, status="generated", div=f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'
    )


def _instant(value: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds")


def _datetime(value: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> FHIRDateTime:
    return FHIRDateTime(_instant(value, zone))


def _day(value: date | None) -> FHIRDateTime | None:
    """A calendar day as a dateTime (R4 allows the date alone), with no invented time of day."""
    return FHIRDateTime(value.isoformat()) if value else None


def _notes(entry: HealthEntry) -> list:
    return [_element(annotation.Annotation, text=entry.details)] if entry.details else []


def _label(label: str, value) -> str:
    return f"{label}: {value}" if value else ""


def patient_resource(user: User) -> patient.Patient:
    identifiers = []
    if user.national_id:
        identifiers.append(
            _element(
                identifier.Identifier,
                use="official",
                type=_concept(system=V2_IDENTIFIER_TYPE, code="NI", display="National unique individual identifier"),
                system=national_id_system(),
                value=user.national_id,
            )
        )
    telecom = [_element(contactpoint.ContactPoint, system="email", value=user.email)]
    if user.phone:
        telecom.append(_element(contactpoint.ContactPoint, system="phone", value=str(user.phone)))
    name = _element(
        humanname.HumanName,
        text=user.full_name,
        family=user.last_name,
        given=[user.first_name] if user.first_name else [],
    )
    communication = _element(
        patient.PatientCommunication, language=_concept(system=LANGUAGE, code=user.language), preferred=True
    )
    return _element(
        patient.Patient,
        id=str(user.pk),
        text=_narrative(user.full_name, user.email),
        identifier=identifiers,
        name=[name],
        telecom=telecom,
        communication=[communication],
    )


def allergy_resource(entry: HealthEntry, patient_ref) -> allergyintolerance.AllergyIntolerance:
    # A reaction needs a manifestation: only a described one is written, never a placeholder.
    reactions = []
    if entry.reaction:
        reactions.append(
            _element(
                allergyintolerance.AllergyIntoleranceReaction,
                manifestation=[_concept(entry.reaction)],
                severity=entry.severity if entry.severity in Severity.values else None,
            )
        )
    criticality = None
    if entry.severity:
        criticality = "high" if entry.severity == Severity.SEVERE else "low"
    severity = Severity(entry.severity).label if entry.severity in Severity.values else ""
    return _element(
        allergyintolerance.AllergyIntolerance,
        id=str(entry.id),
        text=_narrative(
            f"{Category.ALLERGY.label}: {entry.name}",
            _label(_("reaction"), entry.reaction),
            _label(_("severity"), severity),
            entry.details,
        ),
        # The patient states it themselves: active, and unconfirmed until a clinician confirms it.
        clinicalStatus=_concept(system=ALLERGY_CLINICAL, code="active", display="Active"),
        verificationStatus=_concept(system=ALLERGY_VERIFICATION, code="unconfirmed", display="Unconfirmed"),
        criticality=criticality,
        code=_concept(entry.name),
        patient=patient_ref,
        recordedDate=_datetime(entry.created_at),
        asserter=patient_ref,
        reaction=reactions,
        note=_notes(entry),
    )


def medication_resource(entry: HealthEntry, patient_ref) -> medicationstatement.MedicationStatement:
    dosages = []
    if entry.dose or entry.frequency:
        dosages.append(
            _element(
                dosage.Dosage,
                text=entry.dose,
                timing=_element(timing.Timing, code=_concept(entry.frequency)) if entry.frequency else None,
            )
        )
    return _element(
        medicationstatement.MedicationStatement,
        id=str(entry.id),
        text=_narrative(
            f"{Category.MEDICATION.label}: {entry.name}",
            _label(_("dose"), entry.dose),
            _label(_("frequency"), entry.frequency),
            entry.details,
        ),
        status="completed" if entry.ended_on else "active",
        medicationCodeableConcept=_concept(entry.name),
        subject=patient_ref,
        effectivePeriod=_period(entry),
        dateAsserted=_datetime(entry.created_at),
        informationSource=patient_ref,
        dosage=dosages,
        note=_notes(entry),
    )


def condition_resource(entry: HealthEntry, patient_ref) -> condition.Condition:
    return _element(
        condition.Condition,
        id=str(entry.id),
        text=_narrative(
            f"{Category.CONDITION.label}: {entry.name}",
            _label(_("diagnosed on"), entry.diagnosed_on and entry.diagnosed_on.isoformat()),
            entry.details,
        ),
        clinicalStatus=_concept(system=CONDITION_CLINICAL, code="active", display="Active"),
        verificationStatus=_concept(system=CONDITION_VERIFICATION, code="unconfirmed", display="Unconfirmed"),
        category=[_concept(system=CONDITION_CATEGORY, code="problem-list-item", display="Problem List Item")],
        code=_concept(entry.name),
        subject=patient_ref,
        onsetDateTime=_day(entry.diagnosed_on),
        recordedDate=_datetime(entry.created_at),
        asserter=patient_ref,
        note=_notes(entry),
    )


def _period(entry: HealthEntry) -> period.Period | None:
    if not (entry.started_on or entry.ended_on):
        return None
    return _element(period.Period, start=_day(entry.started_on), end=_day(entry.ended_on))


def procedure_resource(entry: HealthEntry, patient_ref) -> procedure.Procedure:
    return _element(
        procedure.Procedure,
        id=str(entry.id),
        text=_narrative(
            f"{Category.TREATMENT.label}: {entry.name}",
            _label(_("started on"), entry.started_on and entry.started_on.isoformat()),
            _label(_("ended on"), entry.ended_on and entry.ended_on.isoformat()),
            entry.details,
        ),
        status="completed" if entry.ended_on else "in-progress",
        code=_concept(entry.name),
        subject=patient_ref,
        performedPeriod=_period(entry),
        asserter=patient_ref,
        note=_notes(entry),
    )


def location_id(clinic: Clinic) -> uuid.UUID:
    # The clinic's id names its Organization; its Location needs another id for its own urn:uuid.
    return uuid.uuid5(clinic.pk, "location")


def organization_resource(clinic: Clinic) -> organization.Organization:
    return _element(
        organization.Organization,
        id=str(clinic.pk),
        text=_narrative(clinic.name, f"{clinic.address}, {clinic.city}"),
        active=True,
        name=clinic.name,
        address=[_clinic_address(clinic)],
    )


def _clinic_address(clinic: Clinic) -> address.Address:
    return _element(
        address.Address,
        use="work",
        type="physical",
        text=f"{clinic.address}, {clinic.city}",
        line=[clinic.address],
        city=clinic.city,
    )


def location_resource(clinic: Clinic) -> location.Location:
    return _element(
        location.Location,
        id=str(location_id(clinic)),
        text=_narrative(clinic.name, f"{clinic.address}, {clinic.city}"),
        status="active",
        name=clinic.name,
        mode="instance",
        address=_clinic_address(clinic),
        managingOrganization=_reference(clinic.pk, clinic.name),
    )


def practitioner_resource(doctor: Doctor) -> practitioner.Practitioner:
    user = doctor.user
    return _element(
        practitioner.Practitioner,
        id=str(doctor.pk),
        text=_narrative(doctor.name, _label(_("registration number"), doctor.registration_number)),
        identifier=[
            _element(
                identifier.Identifier,
                use="official",
                type=_concept(system=V2_IDENTIFIER_TYPE, code="MD", display="Medical License number"),
                system=registration_number_system(),
                value=doctor.registration_number,
            )
        ],
        active=doctor.is_active,
        name=[
            _element(
                humanname.HumanName,
                text=doctor.name,
                family=user.last_name,
                given=[user.first_name] if user.first_name else [],
                prefix=[doctor.title] if doctor.title else [],
            )
        ],
    )


def appointment_resource(visit, patient_ref) -> appointment.Appointment:
    clinic, doctor = visit.clinic, visit.doctor
    zone = ZoneInfo(clinic.timezone)
    cancelled_by = CANCELLATION.get(visit.status)
    participants = [
        _element(
            appointment.AppointmentParticipant,
            actor=patient_ref,
            required="required",
            status="declined" if visit.status == "cancelled_by_patient" else "accepted",
        ),
        _element(
            appointment.AppointmentParticipant,
            actor=_reference(doctor.pk, doctor.name),
            required="required",
            status="declined" if visit.status == "cancelled_by_clinic" else "accepted",
        ),
    ]
    if not visit.is_online:
        participants.append(
            _element(
                appointment.AppointmentParticipant,
                actor=_reference(location_id(clinic), clinic.name),
                required="required",
                status="declined" if visit.status == "cancelled_by_clinic" else "accepted",
            )
        )
    return _element(
        appointment.Appointment,
        id=str(visit.pk),
        text=_narrative(
            f"{_instant(visit.start, zone)} – {_instant(visit.end, zone)}",
            f"{doctor.name}, {clinic.name}",
            f"{visit.get_visit_type_display()}, {visit.get_status_display()}",
        ),
        status=APPOINTMENT_STATUS[visit.status],
        cancelationReason=(
            _concept(
                visit.get_status_display(), system=CANCELLATION_REASON, code=cancelled_by[0], display=cancelled_by[1]
            )
            if cancelled_by
            else None
        ),
        serviceType=[_concept(visit.exam_type)] if visit.exam_type else [],
        reasonCode=[_concept(visit.visit_reason)] if visit.visit_reason else [],
        start=FHIRInstant(_instant(visit.start, zone)),
        end=FHIRInstant(_instant(visit.end, zone)),
        created=_datetime(visit.created_at, zone),
        participant=participants,
    )


ENTRY_RESOURCE = {
    Category.ALLERGY: allergy_resource,
    Category.MEDICATION: medication_resource,
    Category.CONDITION: condition_resource,
    Category.TREATMENT: procedure_resource,
}


def bundle_for(*, patient: User, entries: list[HealthEntry], appointments: list) -> dict:
    """The Bundle as JSON, checked by the model classes on the way out."""
    patient_ref = _reference(patient.pk, patient.full_name)
    resources = [patient_resource(patient)]
    resources += [ENTRY_RESOURCE[entry.category](entry, patient_ref) for entry in entries]
    resources += [appointment_resource(visit, patient_ref) for visit in appointments]
    doctors = {visit.doctor_id: visit.doctor for visit in appointments}
    resources += [practitioner_resource(doctor) for doctor in doctors.values()]
    clinics = {visit.clinic_id: visit.clinic for visit in appointments}
    for clinic in clinics.values():
        resources += [organization_resource(clinic), location_resource(clinic)]
    document = _element(
        bundle.Bundle,
        type="collection",
        timestamp=FHIRInstant(_instant(timezone.now())),
        entry=[_element(bundle.BundleEntry, fullUrl=_urn(resource.id), resource=resource) for resource in resources],
    )
    return document.as_json()
