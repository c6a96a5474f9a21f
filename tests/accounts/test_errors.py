"""Bad input gets the API.md error shape ({"code", "detail", "fields"?}) and a 4xx, never a 500;
the operations endpoints answer."""

import json

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
REGISTRATION = {
    "email": "zeynep@example.test",
    "password": "a-long-enough-passphrase-9",
    "first_name": "Zeynep",
    "last_name": "Kaya",
    "phone": "05321234567",
}


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("path", [REGISTER, "/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/clinics/"])
@pytest.mark.parametrize("body", ['{"email": ', "{'single': 'quotes'}", "\x00\xff", "NaN-ish"])
def test_bad_json_is_400_validation_error(api, as_user, platform_admin, path, body):
    client = as_user(platform_admin) if path == "/api/v1/clinics/" else api

    response = client.post(path, body, content_type="application/json")

    _error(response, 400, "validation_error")


def test_bad_json_on_patch_me_is_400(as_user, patient_ayse):
    response = as_user(patient_ayse).patch("/api/v1/me/", "{nope", content_type="application/json")

    _error(response, 400, "validation_error")


@pytest.mark.parametrize(
    "path, body",
    [
        (REGISTER, {**REGISTRATION, "email": 12345}),
        (REGISTER, {**REGISTRATION, "first_name": ["Zeynep"], "last_name": {"a": 1}}),
        (REGISTER, {**REGISTRATION, "phone": 5321234567.5}),
        (REGISTER, {**REGISTRATION, "language": ["tr"]}),
        (REGISTER, [REGISTRATION]),
        (REGISTER, "just a string"),
        (REGISTER, None),
        ("/api/v1/auth/token/", {"email": 5, "password": [1, 2]}),
        ("/api/v1/auth/token/", [1, 2]),
        ("/api/v1/auth/token/refresh/", {"refresh": {"nested": True}}),
    ],
    ids=[
        "email-int",
        "names-list-dict",
        "phone-float",
        "language-list",
        "body-list",
        "body-string",
        "body-null",
        "login-types",
        "login-list",
        "refresh-dict",
    ],
)
def test_wrong_types_are_400_validation_error(api, path, body):
    response = api.post(path, json.dumps(body), content_type="application/json")

    _error(response, 400, "validation_error")


def test_wrong_types_name_the_fields(api):
    response = api.post(
        REGISTER, {**REGISTRATION, "email": 12345, "first_name": ["Zeynep"], "language": 7}, format="json"
    )

    body = _error(response, 400, "validation_error")
    assert {"email", "first_name", "language"} <= set(body["fields"])


def test_wrong_types_on_patch_me_are_400(as_user, patient_ayse):
    response = as_user(patient_ayse).patch("/api/v1/me/", {"language": 5, "national_id": 12345678950}, format="json")

    body = _error(response, 400, "validation_error")
    assert "language" in body["fields"]


@pytest.mark.parametrize(
    "query", ["clinic=not-a-uuid", "available_on=tomorrow", "q=" + "x" * 500, "page=abc", "page=99999"]
)
def test_bad_doctor_search_parameters_are_4xx_not_500(api, query):
    response = api.get(f"/api/v1/doctors/?{query}")

    assert 400 <= response.status_code < 500, response.content
    assert "code" in response.json() and "detail" in response.json()


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", "email=zeynep@example.test"),
        ("application/x-www-form-urlencoded", "email=zeynep%40example.test&password=x"),
        ("application/xml", "<user><email>zeynep@example.test</email></user>"),
    ],
)
def test_a_body_that_is_not_json_is_415(api, content_type, body):
    response = api.post(REGISTER, body, content_type=content_type)

    _error(response, 415, "unsupported_media_type")


def test_a_body_over_the_upload_limit_is_400(api):
    body = json.dumps({**REGISTRATION, "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = api.post(REGISTER, body, content_type="application/json")

    _error(response, 400, "validation_error")
    from accounts.models import User

    assert not User.objects.filter(email=REGISTRATION["email"]).exists()


def test_an_oversized_body_is_refused_before_authentication_matters(as_user, patient_ayse):
    body = json.dumps({"first_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = as_user(patient_ayse).patch("/api/v1/me/", body, content_type="application/json")

    _error(response, 400, "validation_error")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/nothing-here", "/api/v1/doctors/not-a-uuid/"])
def test_an_unknown_api_path_is_404_json_not_found(api, path):
    response = api.get(path)

    _error(response, 404, "not_found")


def test_a_wrong_method_is_405_in_the_error_format(api):
    response = api.delete("/api/v1/doctors/")

    _error(response, 405, "method_not_allowed")


def test_error_details_are_english_on_request(api):
    response = api.post(REGISTER, "{nope", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    body = _error(response, 400, "validation_error")
    assert body["detail"] == "Malformed request body."


def test_healthz_answers(api):
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database(api):
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_the_openapi_schema_and_its_browser_render(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/doctors/" in paths
    assert "/api/v1/auth/token/" in paths
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
