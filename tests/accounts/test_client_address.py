"""One client address for limits and audit: X-Forwarded-For counts only as far as our proxies wrote it."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from privacy.models import ConsentEvent, Purpose
from privacy.services import current_version

pytestmark = pytest.mark.django_db

SPOOFED = [f"203.0.113.{i}" for i in range(1, 40)]


def login(api, i, **extra):
    return api.post("/api/v1/auth/token/", {"email": f"user{i}@example.test", "password": "x" * 12}, **extra)


def register(api, i, **extra):
    body = {
        "email": f"new{i}@example.test",
        "password": "a-long-enough-passphrase-9",
        "first_name": "Zeynep",
        "last_name": "Kaya",
        "phone": f"0532 123 45 {i:02d}",
    }
    return api.post("/api/v1/auth/register/", body, **extra)


def grant_consent(client, **extra):
    purpose = Purpose.APPOINTMENT_HEALTH_DATA
    response = client.post("/api/v1/consents/", {"purpose": purpose, "text_version": current_version(purpose)}, **extra)
    assert response.status_code == 201, response.json()
    return ConsentEvent.objects.get(id=response.json()["id"])


@pytest.fixture
def tight_limits(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login_ip": "4/min", "login_account": "100/min", "register": "3/min"}
    )


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_it_ignores_a_rotating_forwarded_for_at_login_by_default(api, tight_limits):
    codes = [login(api, i, HTTP_X_FORWARDED_FOR=SPOOFED[i]).status_code for i in range(6)]

    assert codes == [401] * 4 + [429, 429]


def test_it_ignores_a_rotating_forwarded_for_at_registration_by_default(api, tight_limits):
    codes = [register(api, i, HTTP_X_FORWARDED_FOR=SPOOFED[i]).status_code for i in range(5)]

    assert codes == [201] * 3 + [429, 429]


def test_it_records_the_peer_address_not_the_claimed_one_in_the_audit_trail(as_user, patient_ayse):
    event = grant_consent(as_user(patient_ayse), HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="192.0.2.10")

    assert event.ip_address == "192.0.2.10"


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(
    api, as_user, patient_ayse, tight_limits, behind_one_proxy
):
    # the client prepends whatever it likes; our proxy (10.0.0.2) appends the real peer last
    codes = [
        login(api, i, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{SPOOFED[i]}, 198.51.100.9").status_code
        for i in range(6)
    ]
    other_client = login(api, 7, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10")
    event = grant_consent(
        as_user(patient_ayse), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.9"
    )

    assert codes == [401] * 4 + [429, 429]
    assert other_client.status_code == 401  # a different client behind the same proxy has its own budget
    assert event.ip_address == "198.51.100.9"


def test_a_client_that_bypasses_the_trusted_proxy_is_not_believed(
    api, as_user, patient_ayse, tight_limits, behind_one_proxy
):
    codes = [login(api, i, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=SPOOFED[i]).status_code for i in range(6)]
    event = grant_consent(as_user(patient_ayse), REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert codes == [401] * 4 + [429, 429]
    assert event.ip_address == "192.0.2.10"
