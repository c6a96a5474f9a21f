"""Registration refuses repeated-character and common passwords, whatever their length."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def register(api, password):
    return api.post(
        "/api/v1/auth/register/",
        {
            "email": "zeynep@example.test",
            "password": password,
            "first_name": "Zeynep",
            "last_name": "Kaya",
            "phone": "0532 123 45 67",
        },
    )


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "abababababab", "111111111111111", "password1234", "1qaz2wsx3edc"]
)
def test_it_refuses_repeated_characters_and_common_passwords(api, password):
    response = register(api, password)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(email="zeynep@example.test").exists()


def test_the_refusal_is_in_the_users_language(api):
    response = api.post(
        "/api/v1/auth/register/",
        {
            "email": "z@example.test",
            "password": "zzzzzzzzzzzzzz",
            "first_name": "Z",
            "last_name": "K",
            "phone": "05321234567",
        },
        HTTP_ACCEPT_LANGUAGE="tr",
    )

    assert "Bu parola çok az farklı karakterden oluşuyor." in response.json()["fields"]["password"]


def test_it_accepts_a_long_varied_password(api):
    assert register(api, "a-long-enough-passphrase-9").status_code == 201
