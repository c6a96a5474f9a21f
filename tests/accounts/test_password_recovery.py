"""Password reset by e-mail and password change through the API: the same answer for known and
unknown addresses, links that work once, every other refresh token revoked, throttled."""

import re

import pytest
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password-reset/"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm/"
CHANGE = "/api/v1/me/password/"
NEW_PASSWORD = "another-long-passphrase-71"


@pytest.fixture
def zeynep(db):
    return UserFactory(email="zeynep@example.test")


def login(email: str, password: str) -> dict:
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}).json()


def refresh_works(refresh: str) -> bool:
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 200


def link_parts(body: str) -> dict:
    [(uid, token)] = re.findall(r"#uid=([\w-]+)&token=([\w-]+)", body)
    return {"uid": uid, "token": token}


def request_reset(api, email, capture) -> dict:
    with capture(execute=True):
        response = api.post(RESET, {"email": email})
    assert response.status_code == 202
    [message] = mail.outbox
    return link_parts(message.body)


def test_a_known_and_an_unknown_address_get_the_same_answer_through_the_same_work(
    api, zeynep, django_assert_num_queries, django_capture_on_commit_callbacks
):
    answers = {}
    for email in ("zeynep@example.test", "nobody@example.test"):
        # one query (the look-up by e-mail) and one task handed over after the commit, either way
        with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):
            response = api.post(RESET, {"email": email})
        answers[email] = (response.status_code, response.json(), len(callbacks))
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()

    assert answers["zeynep@example.test"] == answers["nobody@example.test"] == (202, {"status": "accepted"}, 1)
    [message] = mail.outbox
    assert message.to == ["zeynep@example.test"]
    assert "https://" in message.body or "http://" in message.body


def test_the_reset_link_sets_a_new_password_once_and_revokes_every_refresh_token(
    api, zeynep, django_capture_on_commit_callbacks
):
    sessions = [login(zeynep.email, TEST_PASSWORD)["refresh"] for _ in range(2)]
    link = request_reset(api, zeynep.email, django_capture_on_commit_callbacks)

    response = api.post(RESET_CONFIRM, {**link, "password": NEW_PASSWORD})

    assert response.status_code == 204
    assert [refresh_works(refresh) for refresh in sessions] == [False, False]
    assert "access" in login(zeynep.email, NEW_PASSWORD)
    assert "access" not in login(zeynep.email, TEST_PASSWORD)
    again = api.post(RESET_CONFIRM, {**link, "password": "yet-another-passphrase-3"})
    assert again.status_code == 400 and "token" in again.json()["fields"]


def test_a_weak_new_password_is_refused_and_the_link_still_works(api, zeynep, django_capture_on_commit_callbacks):
    link = request_reset(api, zeynep.email, django_capture_on_commit_callbacks)

    weak = api.post(RESET_CONFIRM, {**link, "password": "aaaaaaaaaaaa"}, HTTP_ACCEPT_LANGUAGE="en")

    assert weak.status_code == 400 and "password" in weak.json()["fields"]
    assert api.post(RESET_CONFIRM, {**link, "password": NEW_PASSWORD}).status_code == 204


@pytest.mark.parametrize(
    "link",
    [
        {"uid": "bm90LWEtdXVpZA", "token": "abc-123"},
        {"uid": "!!", "token": "abc-123"},
    ],
)
def test_a_made_up_link_is_refused(api, zeynep, link):
    response = api.post(RESET_CONFIRM, {**link, "password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and "token" in response.json()["fields"]


def test_a_token_for_one_account_does_not_open_another(api, zeynep, patient_ayse, django_capture_on_commit_callbacks):
    link = request_reset(api, zeynep.email, django_capture_on_commit_callbacks)
    ayse_uid = urlsafe_base64_encode(force_bytes(patient_ayse.pk))

    response = api.post(RESET_CONFIRM, {"uid": ayse_uid, "token": link["token"], "password": NEW_PASSWORD})

    assert response.status_code == 400
    assert "access" in login(patient_ayse.email, TEST_PASSWORD)


def test_reset_requests_are_limited_per_address_asked_for(api, zeynep):
    known = [api.post(RESET, {"email": "zeynep@example.test"}).status_code for _ in range(4)]
    unknown = [api.post(RESET, {"email": "nobody@example.test"}).status_code for _ in range(4)]

    assert known == unknown == [202, 202, 202, 429]


def test_reset_requests_are_limited_per_client_address(api):
    answers = [api.post(RESET, {"email": f"someone{n}@example.test"}).status_code for n in range(11)]

    assert answers == [202] * 10 + [429]


def test_changing_the_password_keeps_this_client_signed_in_and_revokes_the_others(as_user, zeynep):
    mine, other = (login(zeynep.email, TEST_PASSWORD) for _ in range(2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")

    response = client.post(
        CHANGE, {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "refresh": mine["refresh"]}
    )

    assert response.status_code == 204
    assert (refresh_works(mine["refresh"]), refresh_works(other["refresh"])) == (True, False)
    assert "access" in login(zeynep.email, NEW_PASSWORD)


def test_a_change_needs_the_old_password_and_a_good_new_one(as_user, zeynep):
    client = as_user(zeynep)

    wrong_old = client.post(CHANGE, {"old_password": "not-it-at-all-5", "new_password": NEW_PASSWORD})
    weak_new = client.post(CHANGE, {"old_password": TEST_PASSWORD, "new_password": "password123"})

    assert wrong_old.status_code == 400 and list(wrong_old.json()["fields"]) == ["old_password"]
    assert weak_new.status_code == 400 and list(weak_new.json()["fields"]) == ["new_password"]
    assert "access" in login(zeynep.email, TEST_PASSWORD)


def test_someone_elses_refresh_token_cannot_be_kept(as_user, zeynep, patient_ayse):
    theirs = str(RefreshToken.for_user(patient_ayse))

    response = as_user(zeynep).post(
        CHANGE, {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "refresh": theirs}
    )

    assert response.status_code == 400 and "refresh" in response.json()["fields"]
    assert refresh_works(theirs)


def test_password_guesses_through_the_change_endpoint_are_limited(as_user, zeynep):
    client = as_user(zeynep)

    answers = [
        client.post(CHANGE, {"old_password": f"guess-number-{n}-x", "new_password": NEW_PASSWORD}).status_code
        for n in range(6)
    ]

    assert answers == [400] * 5 + [429]
