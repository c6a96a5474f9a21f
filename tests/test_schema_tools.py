"""The OpenAPI schema checked by tools nobody on the project wrote (issue 12): openapi-spec-validator,
Spectral's `spectral:oas` ruleset (.spectral.yaml: no error, no warning) and schemathesis against a
live server as anonymous, a patient, a doctor and clinic staff. The schema tells the truth or these
fail; medplatform/schema.py holds what drf-spectacular cannot see (summaries, tags, errors)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from django.conf import settings
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from openapi_spec_validator import validate
from rest_framework_simplejwt.tokens import RefreshToken

from medplatform.schema import DOMAIN_ERRORS, SUMMARIES

ROOT = Path(__file__).resolve().parents[1]
SPECTRAL = ROOT / "tools" / "openapi-check" / "node_modules" / ".bin" / "spectral"
METHODS = {"get", "post", "put", "patch", "delete"}
REQUIRED = os.environ.get("MEDPLATFORM_REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory, django_db_blocker) -> Path:
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return path


@pytest.fixture(scope="module")
def schema(schema_file) -> dict:
    return yaml.safe_load(schema_file.read_text())


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_openapi_spec_validator_accepts_the_schema(schema):
    validate(schema)


def test_spectral_finds_no_error_and_no_warning(schema_file, tmp_path):
    if not SPECTRAL.exists():
        # The services run installs it first (scripts/install_openapi_tools.sh) and must run it; the
        # embedded run comes before that install, so on a fresh clone it is not there yet.
        if REQUIRED or settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
            pytest.fail("Spectral is not installed: scripts/install_openapi_tools.sh (make test-services runs it)")
        pytest.skip("Spectral is not installed here (make test-services installs it)")
    result = subprocess.run(
        [str(SPECTRAL), "lint", "--ruleset", str(ROOT / ".spectral.yaml"), "--fail-severity", "warn", "-f", "json"]
        + ["--output", str(tmp_path / "spectral.json"), str(schema_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    findings = json.loads((tmp_path / "spectral.json").read_text())
    assert [(item["code"], ".".join(map(str, item["path"])), item["message"]) for item in findings] == []
    assert result.returncode == 0, result.stderr


def test_every_operation_has_a_summary_a_defined_tag_and_an_operation_id(schema):
    defined_tags = {tag["name"] for tag in schema["tags"]}
    assert all(tag.get("description") for tag in schema["tags"])
    for key, operation in operations(schema):
        assert operation.get("summary"), f"{key}: add its summary to medplatform/schema.py SUMMARIES"
        assert len(operation.get("tags", [])) == 1 and set(operation["tags"]) <= defined_tags, key
        assert operation.get("operationId"), key


def test_the_tables_name_only_operations_that_exist(schema):
    keys = {key for key, _ in operations(schema)}

    assert sorted(set(SUMMARIES) - keys) == []
    assert sorted(set(DOMAIN_ERRORS) - keys) == []


def test_every_error_response_has_the_error_shape_and_its_codes(schema):
    components = schema["components"]["schemas"]
    for key, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            body = components[ref.rsplit("/", 1)[1]]
            assert body["required"] == ["code", "detail"], (key, status)
            code = body["properties"]["code"]
            enum = components[code["allOf"][0]["$ref"].rsplit("/", 1)[1]] if "allOf" in code else code
            assert enum["enum"], (key, status)


def test_every_paginated_list_documents_the_envelope_and_its_parameters(schema):
    components = schema["components"]["schemas"]
    lists = 0
    for key, operation in operations(schema):
        success = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        ref = success.get("schema", {}).get("$ref", "")
        if not ref.rsplit("/", 1)[-1].startswith("Paginated"):
            assert success.get("schema", {}).get("type") != "array" or key.endswith(
                ("/slots/", "/consent-texts/", "/privacy/retention/")
            ), f"{key} is documented as a bare array"
            continue
        lists += 1
        envelope = components[ref.rsplit("/", 1)[1]]
        assert envelope["required"] == ["count", "next", "previous", "results"], key
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        assert {"page", "page_size"} <= names, key
        assert "404" in operation["responses"], f"{key}: a page past the end answers 404"
    assert lists >= 15


def test_the_schema_names_its_servers_and_a_contact(schema):
    assert schema["servers"] and schema["info"]["contact"]["email"]


def test_no_field_has_a_default_its_own_constraints_refuse(schema):
    def walk(node, where):
        if isinstance(node, dict):
            if node.get("default") == "" and node.get("minLength", 0) > 0:
                yield where
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}[{index}]")

    assert list(walk(schema, "")) == []


# --- schemathesis against a live server -------------------------------------------------------

EXAMPLES_PER_OPERATION = 10


def _cast():
    """An Istanbul clinic with a doctor (with a schedule), a receptionist, and a patient with a
    booking consent and a share with the doctor: enough for most operations to get past 404."""
    from accounts.models import ClinicMembership
    from appointments.demo import create_demo_schedule
    from health_profiles.models import Category
    from privacy.models import Purpose
    from privacy.services import consent_grant, current_version
    from tests.factories import ClinicFactory, DoctorFactory, UserFactory, clinic_member

    def grant(user, purpose, **extra):
        return consent_grant(
            subject=user, purpose=purpose, text_version=current_version(purpose), language="tr", **extra
        )

    clinic = ClinicFactory(name="Şema Klinik", city="İstanbul", timezone="Europe/Istanbul")
    doctor = DoctorFactory(user__email="schema.doctor@example.test", clinics=[clinic])
    create_demo_schedule(doctor, clinic)
    staff = clinic_member(clinic, ClinicMembership.Role.RECEPTIONIST, email="schema.staff@example.test")
    patient = UserFactory(email="schema.patient@example.test")
    for purpose in (Purpose.APPOINTMENT_HEALTH_DATA, Purpose.HEALTH_PROFILE_STORAGE):
        grant(patient, purpose)
    grant(patient, Purpose.HEALTH_PROFILE_SHARE, doctor=doctor, categories=[Category.ALLERGY])
    known = {"doctor_id": str(doctor.id), "clinic_id": str(clinic.id), "patient_id": str(patient.id)}
    return {"patient": patient, "doctor": doctor.user, "clinic staff": staff}, known


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_schemathesis_finds_no_server_error_no_undocumented_status_and_no_schema_mismatch(live_server):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    users, known = _cast()
    raw = requests.get(f"{live_server.url}/api/schema/", headers={"Accept": "application/json"}, timeout=60).json()
    api = schemathesis.openapi.from_dict(raw)
    roles = {"anonymous": {}} | {
        role: {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"} for role, user in users.items()
    }
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    failures: list[str] = []
    requests_made = 0

    def exercise(strategy, label: str, role: str, headers: dict) -> None:
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case):
            nonlocal requests_made
            response = case.call(base_url=live_server.url, headers=headers)
            requests_made += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except BaseException as failure:  # FailureGroup: every failure collected, reported together
                if isinstance(failure, KeyboardInterrupt):
                    raise
                failures.append(f"{role} {label}: {str(failure)[:600]}")

        run()

    for result in api.get_all_operations():
        operation = result.ok()
        names = {parameter.name for parameter in operation.path_parameters}
        path_parameters = {name: value for name, value in known.items() if name in names}
        for role, headers in roles.items():
            exercise(operation.as_strategy(path_parameters=path_parameters or None), operation.label, role, headers)

    assert requests_made > 500
    assert not failures, "\n\n".join(sorted(set(failures)))
