"""Every role against every health-profile and consent endpoint, with the answer each must get.

Ayşe has a profile with one entry per category; doctor X has an active share of two categories,
doctor Y had a share that expired an hour ago, doctor Z was never shared with; the receptionist
and the clinic admin work at doctor X's clinic; the platform admin is a superuser. No response
to anyone but Ayşe and doctor X may carry Ayşe's health values, and doctor X sees only the
shared categories.
"""

import datetime

import pytest
from django.utils import timezone
from freezegun import freeze_time

from health_profiles.models import HealthEntry
from privacy.models import ConsentEvent, Purpose
from tests.conftest import client_for
from tests.factories import DoctorFactory
from tests.health_profiles.scenario import ENTRY_VALUES, full_profile, share_with

pytestmark = pytest.mark.django_db

ROLES = [
    "ayse",
    "other_patient",
    "doctor_shared",
    "doctor_expired",
    "doctor_outsider",
    "receptionist_of_doctors_clinic",
    "admin_of_doctors_clinic",
    "platform_admin",
    "anonymous",
]
PATIENT_ONLY = {role: 403 for role in ROLES} | {"anonymous": 401}

ENDPOINTS = {
    "profile": ("get", "/api/v1/health-profile/", None, PATIENT_ONLY | {"ayse": 200, "other_patient": 200}),
    "entry_list": ("get", "/api/v1/health-profile/entries/", None, PATIENT_ONLY | {"ayse": 200, "other_patient": 200}),
    "entry_create": (
        "post",
        "/api/v1/health-profile/entries/",
        {"category": "medication", "name": "Aspirin-NEW", "dose": "100mg"},
        # The other patient has no storage consent: 403 consent_required.
        PATIENT_ONLY | {"ayse": 201, "other_patient": 403},
    ),
    "entry_detail": (
        "get",
        "/api/v1/health-profile/entries/{entry}/",
        None,
        PATIENT_ONLY | {"ayse": 200, "other_patient": 404},
    ),
    "entry_patch": (
        "patch",
        "/api/v1/health-profile/entries/{entry}/",
        {"details": "changed"},
        PATIENT_ONLY | {"ayse": 200, "other_patient": 404},
    ),
    "entry_delete": (
        "delete",
        "/api/v1/health-profile/entries/{entry}/",
        None,
        PATIENT_ONLY | {"ayse": 204, "other_patient": 404},
    ),
    "access_log": (
        "get",
        "/api/v1/health-profile/access-log/",
        None,
        PATIENT_ONLY | {"ayse": 200, "other_patient": 200},
    ),
    "export_json": (
        "get",
        "/api/v1/health-profile/export/?format=json",
        None,
        PATIENT_ONLY | {"ayse": 200, "other_patient": 200},
    ),
    "export_fhir": (
        "get",
        "/api/v1/health-profile/export/?format=fhir",
        None,
        PATIENT_ONLY | {"ayse": 200, "other_patient": 200},
    ),
    "shared_profiles": (
        "get",
        "/api/v1/doctor/shared-profiles/",
        None,
        PATIENT_ONLY | {"doctor_shared": 200, "doctor_expired": 200, "doctor_outsider": 200},
    ),
    "doctor_read": (
        "get",
        "/api/v1/patients/{ayse}/health-profile/",
        None,
        {role: 404 for role in ROLES} | {"doctor_shared": 200, "anonymous": 401},
    ),
    "consent_texts": ("get", "/api/v1/consent-texts/", None, {role: 200 for role in ROLES}),
    "consent_list": ("get", "/api/v1/consents/", None, PATIENT_ONLY | {"ayse": 200, "other_patient": 200}),
    "consent_grant": (
        "post",
        "/api/v1/consents/",
        {"purpose": "marketing_messages", "text_version": 1},
        PATIENT_ONLY | {"ayse": 201, "other_patient": 201},
    ),
    "consent_withdraw": (
        "post",
        "/api/v1/consents/{storage}/withdraw/",
        None,
        PATIENT_ONLY | {"ayse": 200, "other_patient": 404},
    ),
}
CODES = {401: "not_authenticated", 404: "not_found"}
SHARED_CATEGORIES = ["allergy", "condition"]


def ayse_values(categories=ENTRY_VALUES) -> list[str]:
    return [
        value
        for category in categories
        for value in ENTRY_VALUES[category].values()
        if isinstance(value, str) and "ZQX" in value
    ]


@pytest.fixture
def world(patient_ayse, patient_mehmet, doctor_x, doctor_y, clinic_x, receptionist_x, clinic_admin_x, platform_admin):
    entries = full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=SHARED_CATEGORIES)
    share_with(
        patient_ayse, doctor_y, categories=SHARED_CATEGORIES, expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    return {
        "users": {
            "ayse": patient_ayse,
            "other_patient": patient_mehmet,
            "doctor_shared": doctor_x.user,
            "doctor_expired": doctor_y.user,
            "doctor_outsider": DoctorFactory(clinics=[clinic_x]).user,
            "receptionist_of_doctors_clinic": receptionist_x,
            "admin_of_doctors_clinic": clinic_admin_x,
            "platform_admin": platform_admin,
            "anonymous": None,
        },
        "ids": {
            "entry": entries["allergy"].id,
            "ayse": patient_ayse.id,
            "storage": ConsentEvent.objects.get(subject=patient_ayse, purpose=Purpose.HEALTH_PROFILE_STORAGE).id,
        },
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_role_gets_the_expected_answer_and_nothing_more(world, endpoint, role):
    method, path, payload, expected = ENDPOINTS[endpoint]
    entries_before = HealthEntry.objects.count()

    # An hour and a minute later: doctor Y's share has expired (tokens are issued in that time too).
    with freeze_time(timezone.now() + datetime.timedelta(hours=1, minutes=1)):
        client = client_for(world["users"][role])
        kwargs = {"format": "json"} if payload is not None else {}
        response = getattr(client, method)(path.format(**world["ids"]), payload, **kwargs)

    assert response.status_code == expected[role], response.content[:300]
    text = response.content.decode()
    if response.status_code >= 400:
        expected_code = "consent_required" if endpoint == "entry_create" and role == "other_patient" else None
        assert response.json()["code"] == (expected_code or CODES.get(response.status_code, "permission_denied"))
    if role == "doctor_shared" and endpoint == "doctor_read":
        assert all(value in text for value in ayse_values(SHARED_CATEGORIES))
        assert not any(value in text for value in ayse_values(["medication", "treatment"]))
    elif role != "ayse":
        assert not any(value in text for value in ayse_values())
        assert HealthEntry.objects.count() == entries_before


def test_health_entries_are_not_in_the_admin_and_share_grants_are_read_only(platform_admin, world):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from health_profiles.models import ShareGrant

    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    assert HealthEntry not in site._registry
    share_admin = site._registry[ShareGrant]
    assert not share_admin.has_change_permission(request, ShareGrant.objects.first())
    assert not share_admin.has_delete_permission(request, ShareGrant.objects.first())
