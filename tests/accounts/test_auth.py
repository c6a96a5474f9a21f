import pytest

from accounts.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "email": "Zeynep@Example.test",
    "password": "a-long-enough-passphrase-9",
    "first_name": "Zeynep",
    "last_name": "Kaya",
    "phone": "0532 123 45 67",
    "language": "tr",
}


def test_it_registers_a_patient_with_a_normalised_phone(api):
    response = api.post("/api/v1/auth/register/", REGISTRATION, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "zeynep@example.test"
    assert body["phone"] == "+905321234567"
    assert body["role"] == "patient"
    assert "password" not in body
    assert response["Cache-Control"] == "no-store"


def test_registration_cannot_set_role_or_staff_flags(api):
    response = api.post(
        "/api/v1/auth/register/",
        {**REGISTRATION, "role": "admin", "is_staff": True, "is_superuser": True},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"role", "is_staff", "is_superuser"}
    assert not User.objects.filter(email="zeynep@example.test").exists()


@pytest.mark.parametrize(
    "password", ["short-pass1", "password1234", "123456789012345"], ids=["short", "common", "numeric"]
)
def test_weak_passwords_are_refused(api, password):
    response = api.post("/api/v1/auth/register/", {**REGISTRATION, "password": password}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(email="zeynep@example.test").exists()


def test_a_bad_phone_is_refused_with_the_field_named(api):
    response = api.post("/api/v1/auth/register/", {**REGISTRATION, "phone": "12"}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["fields"]


def test_the_same_email_cannot_register_twice(api, patient_ayse):
    response = api.post("/api/v1/auth/register/", {**REGISTRATION, "email": "AYSE@example.test"}, format="json")

    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_login_returns_tokens_that_open_me(api, patient_ayse):
    tokens = api.post("/api/v1/auth/token/", {"email": patient_ayse.email, "password": TEST_PASSWORD}).json()

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(patient_ayse.id)


def test_a_wrong_password_gets_401_and_is_logged_without_the_password(api, patient_ayse, caplog):
    response = api.post("/api/v1/auth/token/", {"email": patient_ayse.email, "password": "wrong-password-123"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "login failed" in caplog.text
    assert "wrong-password-123" not in caplog.text
    assert patient_ayse.email not in caplog.text


def test_a_refresh_token_works_once_then_is_refused(api, patient_ayse):
    tokens = api.post("/api/v1/auth/token/", {"email": patient_ayse.email, "password": TEST_PASSWORD}).json()

    first = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    again = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]
    assert again.status_code == 401
    assert again.json()["code"] == "not_authenticated"


def test_logout_kills_the_refresh_token(api, patient_ayse):
    tokens = api.post("/api/v1/auth/token/", {"email": patient_ayse.email, "password": TEST_PASSWORD}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    logout = api.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
    refresh = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert logout.status_code == 204
    assert refresh.status_code == 401


def test_logout_refuses_another_users_refresh_token(api, as_user, patient_ayse, patient_mehmet):
    mehmets = api.post("/api/v1/auth/token/", {"email": patient_mehmet.email, "password": TEST_PASSWORD}).json()

    response = as_user(patient_ayse).post("/api/v1/auth/logout/", {"refresh": mehmets["refresh"]})
    still_works = api.post("/api/v1/auth/token/refresh/", {"refresh": mehmets["refresh"]})

    assert response.status_code == 400
    assert still_works.status_code == 200


def test_login_is_throttled_per_ip_across_accounts(api, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"login_ip": "4/min"})
    codes = [
        api.post("/api/v1/auth/token/", {"email": f"user{i}@example.test", "password": "x" * 12}).status_code
        for i in range(6)
    ]

    assert codes[:4] == [401] * 4
    assert codes[4:] == [429, 429]


def test_error_details_follow_accept_language(api):
    english = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()
    turkish = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="tr").json()

    assert english["code"] == turkish["code"] == "not_authenticated"
    assert english["detail"] != turkish["detail"]
