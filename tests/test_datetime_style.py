"""One datetime style: every time the API sends carries the clinic's offset (+03:00 for an
Istanbul clinic, and the default clinic zone where an object has no clinic), never UTC's Z."""

import re

import pytest

from appointments.demo import create_demo_schedule
from health_profiles.models import Category
from privacy.models import Purpose
from privacy.services import consent_grant, current_version
from tests.appointments.conftest import at, working_day
from tests.factories import ClinicFactory, DoctorFactory, UserFactory

pytestmark = pytest.mark.django_db

ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def datetimes_in(value, where="") -> list[tuple[str, str]]:
    """Every ISO datetime string anywhere in a JSON value, with where it was."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in datetimes_in(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in datetimes_in(item, f"{where}[{index}]")]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return [(where, value)]
    return []


def grant(user, purpose, **extra):
    return consent_grant(subject=user, purpose=purpose, text_version=current_version(purpose), language="tr", **extra)


def test_every_time_in_the_main_answers_has_the_istanbul_offset(as_user, settings):
    # given an Istanbul clinic, a doctor there and a patient with a visit, entries and a share
    settings.DEFAULT_CLINIC_TIMEZONE = "Europe/Istanbul"
    clinic = ClinicFactory(name="Klinik İstanbul", city="İstanbul", timezone="Europe/Istanbul")
    doctor = DoctorFactory(user__email="dr.saat@example.test", clinics=[clinic])
    create_demo_schedule(doctor, clinic)
    patient = UserFactory(email="saat@example.test")
    for purpose in (Purpose.APPOINTMENT_HEALTH_DATA, Purpose.HEALTH_PROFILE_STORAGE):
        grant(patient, purpose)
    share = grant(patient, Purpose.HEALTH_PROFILE_SHARE, doctor=doctor, categories=[Category.ALLERGY])
    patient_api, doctor_api = as_user(patient), as_user(doctor.user)
    day = working_day()

    booked = patient_api.post(
        "/api/v1/appointments/",
        {"doctor": str(doctor.id), "start": at(day, 10).isoformat(), "visit_reason": "baş ağrısı"},
    )
    assert booked.status_code == 201, booked.content
    appointment = booked.json()["id"]
    moved = patient_api.post(f"/api/v1/appointments/{appointment}/reschedule/", {"start": at(day, 11).isoformat()})
    assert moved.status_code == 200, moved.content
    entry = patient_api.post(
        "/api/v1/health-profile/entries/", {"category": "allergy", "name": "Polen", "severity": "mild"}
    )
    assert entry.status_code == 201, entry.content
    request = patient_api.post("/api/v1/privacy/requests/", {"type": "access", "details": ""})
    assert request.status_code == 201, request.content
    assert doctor_api.get(f"/api/v1/patients/{patient.id}/health-profile/").status_code == 200

    # when the main endpoints are read
    answers = {
        "doctors": patient_api.get("/api/v1/doctors/"),
        "doctor": patient_api.get(f"/api/v1/doctors/{doctor.id}/"),
        "slots": patient_api.get(f"/api/v1/doctors/{doctor.id}/slots/", {"from": day.isoformat()}),
        "booking": booked,
        "reschedule": moved,
        "appointments": patient_api.get("/api/v1/appointments/"),
        "appointment": patient_api.get(f"/api/v1/appointments/{appointment}/"),
        "consents": patient_api.get("/api/v1/consents/"),
        "entry": entry,
        "entries": patient_api.get("/api/v1/health-profile/entries/"),
        "profile": patient_api.get("/api/v1/health-profile/"),
        "access log": patient_api.get("/api/v1/health-profile/access-log/"),
        "notifications": patient_api.get("/api/v1/notifications/"),
        "privacy requests": patient_api.get("/api/v1/privacy/requests/"),
        "export": patient_api.get("/api/v1/health-profile/export/", {"format": "json"}),
        "shared profiles": doctor_api.get("/api/v1/doctor/shared-profiles/"),
        "shared profile": doctor_api.get(f"/api/v1/patients/{patient.id}/health-profile/"),
        "time off": doctor_api.post(
            f"/api/v1/doctors/{doctor.id}/time-off/",
            {"start": at(day, 15).isoformat(), "end": at(day, 16).isoformat(), "reason": ""},
        ),
        "time off list": doctor_api.get(f"/api/v1/doctors/{doctor.id}/time-off/"),
        "withdrawal": patient_api.post(f"/api/v1/consents/{share.id}/withdraw/"),
    }

    # then every time in them carries +03:00
    found = {name: datetimes_in(response.json()) for name, response in answers.items()}
    assert {name: response.status_code for name, response in answers.items() if response.status_code >= 300} == {}
    for name in ("slots", "booking", "appointments", "consents", "entries", "access log", "export", "time off"):
        assert found[name], f"no time found in {name}: the walk would prove nothing"
    wrong = {name: [pair for pair in pairs if not pair[1].endswith("+03:00")] for name, pairs in found.items()}
    assert {name: pairs for name, pairs in wrong.items() if pairs} == {}
