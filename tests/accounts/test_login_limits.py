"""40 wrong passwords for one account are slowed or refused on the portal, the admin and the API,
while the owner from a fresh client address still logs in at once, and after a typo of their own
within LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS. Through the real HTTP stack, one address per client."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, UserFactory
from tests.second_factor import confirmed_totp_device, totp_code

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-7"


def _api(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def _token(client, email, password, **extra):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password, **extra})


def _portal_login(client, email, password):
    return client.post("/portal/login/", {"username": email, "password": password})


def test_forty_wrong_api_passwords_from_one_address_are_refused_and_the_owner_still_gets_in(patient_ayse):
    attacker = _api("203.0.113.7")

    # The clock stands still: on a loaded machine 40 requests may outlast the first delay.
    with freeze_time(timezone.now()):
        codes = [_token(attacker, patient_ayse.email, WRONG).status_code for _ in range(40)]
        owner = _token(_api("198.51.100.20"), patient_ayse.email, TEST_PASSWORD)
        refused = _token(attacker, patient_ayse.email, TEST_PASSWORD)

    assert codes[: settings.LOGIN_LIMIT_PAIR_FREE_FAILURES] == [401] * settings.LOGIN_LIMIT_PAIR_FREE_FAILURES
    assert set(codes[settings.LOGIN_LIMIT_PAIR_FREE_FAILURES :]) == {429}
    assert owner.status_code == 200
    assert refused.status_code == 429 and refused.json()["code"] == "throttled" and "Retry-After" in refused


def test_the_delay_grows_with_each_failure_after_it(patient_ayse):
    attacker = _api("203.0.113.8")
    with freeze_time(timezone.now()) as clock:
        for _ in range(settings.LOGIN_LIMIT_PAIR_FREE_FAILURES):
            assert _token(attacker, patient_ayse.email, WRONG).status_code == 401
        first_wait = int(_token(attacker, patient_ayse.email, WRONG)["Retry-After"])
        clock.tick(first_wait)
        assert _token(attacker, patient_ayse.email, WRONG).status_code == 401  # checked once more
        second_wait = int(_token(attacker, patient_ayse.email, WRONG)["Retry-After"])

    assert second_wait > first_wait


def test_forty_addresses_guessing_one_account_are_slowed_but_cannot_lock_the_owner_out(patient_ayse):
    with freeze_time(timezone.now()) as clock:
        first_round = [_token(_api(f"203.0.113.{i}"), patient_ayse.email, WRONG).status_code for i in range(40)]
        second_try = _token(_api("203.0.113.1"), patient_ayse.email, WRONG)
        fresh_owner = _token(_api("198.51.100.21"), patient_ayse.email, TEST_PASSWORD)

        # The owner mistypes once from their own address during the attack: a short wait, no lockout.
        own = _api("198.51.100.22")
        assert _token(own, patient_ayse.email, WRONG).status_code == 401
        typo_wait = _token(own, patient_ayse.email, TEST_PASSWORD)
        clock.tick(int(typo_wait["Retry-After"]))
        after_wait = _token(own, patient_ayse.email, TEST_PASSWORD)

    assert first_round == [401] * 40
    assert second_try.status_code == 429
    assert fresh_owner.status_code == 200
    assert typo_wait.status_code == 429
    assert int(typo_wait["Retry-After"]) <= settings.LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS + 1
    assert after_wait.status_code == 200


def test_one_address_guessing_over_many_accounts_is_slowed():
    users = [UserFactory(email=f"spray{i}@example.test") for i in range(settings.LOGIN_LIMIT_ADDRESS_FREE_FAILURES + 3)]
    sprayer = Client(REMOTE_ADDR="203.0.113.9")

    codes = [_portal_login(sprayer, user.email, WRONG).status_code for user in users]
    other_address = _portal_login(Client(REMOTE_ADDR="198.51.100.23"), users[-1].email, TEST_PASSWORD)

    assert codes[: settings.LOGIN_LIMIT_ADDRESS_FREE_FAILURES] == [200] * settings.LOGIN_LIMIT_ADDRESS_FREE_FAILURES
    assert set(codes[settings.LOGIN_LIMIT_ADDRESS_FREE_FAILURES :]) == {429}
    assert other_address.status_code == 302


def test_forty_wrong_portal_passwords_are_refused_and_the_doctor_still_logs_in(doctor_x):
    attacker = Client(REMOTE_ADDR="203.0.113.10")

    # The clock stands still: on a loaded machine 40 requests may outlast the first delay.
    with freeze_time(timezone.now()):
        pages = [_portal_login(attacker, doctor_x.user.email, WRONG) for _ in range(40)]
        owner = _portal_login(Client(REMOTE_ADDR="198.51.100.24"), doctor_x.user.email, TEST_PASSWORD)
        right_password_from_attacker = _portal_login(attacker, doctor_x.user.email, TEST_PASSWORD)

    free = settings.LOGIN_LIMIT_PAIR_FREE_FAILURES
    assert [page.status_code for page in pages[:free]] == [200] * free
    assert {page.status_code for page in pages[free:]} == {429}
    assert "Retry-After" in pages[-1]
    assert owner.status_code == 302
    assert right_password_from_attacker.status_code == 429
    assert "_auth_user_id" not in attacker.session


def test_the_portal_says_in_turkish_that_the_login_is_limited(doctor_x):
    attacker = Client(REMOTE_ADDR="203.0.113.11", HTTP_ACCEPT_LANGUAGE="tr")
    for _ in range(settings.LOGIN_LIMIT_PAIR_FREE_FAILURES):
        _portal_login(attacker, doctor_x.user.email, WRONG)

    page = _portal_login(attacker, doctor_x.user.email, WRONG)

    assert page.status_code == 429
    assert "Çok fazla başarısız giriş denemesi" in page.content.decode()


def test_forty_wrong_admin_passwords_are_refused_and_the_admin_still_logs_in(platform_admin):
    device = confirmed_totp_device(platform_admin)
    attacker = Client(REMOTE_ADDR="203.0.113.12")

    # The clock stands still: on a loaded machine 40 requests may outlast the first delay.
    with freeze_time(timezone.now()):
        codes = [
            attacker.post("/admin/login/", {"username": platform_admin.email, "password": WRONG}).status_code
            for _ in range(40)
        ]
        owner = Client(REMOTE_ADDR="198.51.100.25")
        login = owner.post(
            "/admin/login/?next=/admin/",
            {
                "username": platform_admin.email,
                "password": TEST_PASSWORD,
                "otp_device": device.persistent_id,
                "otp_token": totp_code(device),
            },
        )

    free = settings.LOGIN_LIMIT_PAIR_FREE_FAILURES
    assert codes[:free] == [200] * free
    assert set(codes[free:]) == {429}
    assert login.status_code == 302 and owner.get("/admin/").status_code == 200


def test_failures_are_forgotten_after_the_memory_window(patient_ayse):
    attacker = _api("203.0.113.13")
    with freeze_time(timezone.now()) as clock:
        for _ in range(settings.LOGIN_LIMIT_PAIR_FREE_FAILURES + 1):
            _token(attacker, patient_ayse.email, WRONG)
        assert _token(attacker, patient_ayse.email, TEST_PASSWORD).status_code == 429
        clock.tick(timedelta(seconds=settings.LOGIN_LIMIT_MEMORY_SECONDS + 1))
        assert _token(attacker, patient_ayse.email, TEST_PASSWORD).status_code == 200
