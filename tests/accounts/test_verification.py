"""Verified contact data through the API: a one-time code sent by SMS or e-mail, confirmed once,
for the address it went to, within its lifetime and attempts; sends are throttled."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import ContactVerification
from notifications.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/me/verify/"
CONFIRM = "/api/v1/me/verify/confirm/"


def code_in(body: str) -> str:
    [code] = re.findall(r"\b\d{6}\b", body)
    return code


@pytest.fixture
def zeynep(db):
    return UserFactory(email="zeynep@example.test", phone="+905321234567")


def test_a_code_sent_by_sms_verifies_the_phone(as_user, zeynep, fake_twilio, django_capture_on_commit_callbacks):
    client = as_user(zeynep)
    assert client.get("/api/v1/me/").json()["phone_verified"] is False

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY, {"channel": "phone"})

    assert response.status_code == 202
    [sms] = fake_twilio.messages
    assert sms.to == "+905321234567"
    confirmed = client.post(CONFIRM, {"channel": "phone", "code": code_in(sms.body)})
    assert confirmed.status_code == 200, confirmed.json()
    me = client.get("/api/v1/me/").json()
    assert (me["phone_verified"], me["email_verified"]) == (True, False)


def test_a_code_sent_by_e_mail_verifies_the_address(as_user, zeynep, django_capture_on_commit_callbacks):
    client = as_user(zeynep)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(VERIFY, {"channel": "email"}).status_code == 202

    [message] = mail.outbox
    assert message.to == ["zeynep@example.test"]
    assert client.post(CONFIRM, {"channel": "email", "code": code_in(message.body)}).status_code == 200
    me = client.get("/api/v1/me/").json()
    assert (me["email_verified"], me["phone_verified"]) == (True, False)


def test_the_code_is_stored_nowhere_but_as_a_hash(as_user, zeynep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(zeynep).post(VERIFY, {"channel": "email"})
    code = code_in(mail.outbox[0].body)

    verification = ContactVerification.objects.get()
    stored = [str(value) for value in verification.__dict__.values()]
    stored += [str(value) for row in Notification.objects.values() for value in row.values()]
    assert not [value for value in stored if code in value]
    lifetime = verification.expires_at - verification.created_at
    assert timedelta(minutes=10) - timedelta(seconds=1) < lifetime <= timedelta(minutes=10)


def test_a_wrong_code_is_refused_and_after_the_attempt_limit_so_is_the_right_one(
    settings, as_user, zeynep, django_capture_on_commit_callbacks
):
    settings.VERIFICATION_MAX_ATTEMPTS = 3
    client = as_user(zeynep)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(VERIFY, {"channel": "email"})
    code = code_in(mail.outbox[0].body)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    answers = [client.post(CONFIRM, {"channel": "email", "code": wrong}) for _ in range(3)]
    last = client.post(CONFIRM, {"channel": "email", "code": code})

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].json()["code"] == "validation_error" and "code" in answers[0].json()["fields"]
    assert last.status_code == 400
    assert client.get("/api/v1/me/").json()["email_verified"] is False


def test_an_expired_code_is_refused(as_user, zeynep, django_capture_on_commit_callbacks):
    client = as_user(zeynep)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(VERIFY, {"channel": "email"})
    ContactVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(CONFIRM, {"channel": "email", "code": code_in(mail.outbox[0].body)})

    assert response.status_code == 400
    assert client.get("/api/v1/me/").json()["email_verified"] is False


def test_a_new_code_voids_the_earlier_one(as_user, zeynep, django_capture_on_commit_callbacks):
    client = as_user(zeynep)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(VERIFY, {"channel": "email"})
        client.post(VERIFY, {"channel": "email"})
    first, second = (code_in(message.body) for message in mail.outbox)
    assert first != second

    assert client.post(CONFIRM, {"channel": "email", "code": first}).status_code == 400
    assert client.post(CONFIRM, {"channel": "email", "code": second}).status_code == 200


def test_a_code_confirms_only_the_number_it_was_sent_to(
    as_user, zeynep, fake_twilio, django_capture_on_commit_callbacks
):
    client = as_user(zeynep)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(VERIFY, {"channel": "phone"})
    code = code_in(fake_twilio.messages[0].body)

    assert client.patch("/api/v1/me/", {"phone": "+905329998877"}).status_code == 200
    response = client.post(CONFIRM, {"channel": "phone", "code": code})

    assert response.status_code == 400
    assert client.get("/api/v1/me/").json()["phone_verified"] is False


def test_changing_the_phone_or_the_e_mail_clears_its_flag_and_nothing_else(as_user, zeynep):
    zeynep.phone_verified = zeynep.email_verified = True
    zeynep.save()
    client = as_user(zeynep)

    same = client.patch("/api/v1/me/", {"phone": "0532 123 45 67", "first_name": "Zey"}).json()
    assert (same["phone_verified"], same["email_verified"]) == (True, True)
    new_phone = client.patch("/api/v1/me/", {"phone": "+905329998877"}).json()
    assert (new_phone["phone"], new_phone["phone_verified"], new_phone["email_verified"]) == (
        "+905329998877",
        False,
        True,
    )
    new_email = client.patch("/api/v1/me/", {"email": "Zeynep.K@Example.test"}).json()
    assert (new_email["email"], new_email["email_verified"]) == ("zeynep.k@example.test", False)


def test_an_e_mail_address_of_another_account_cannot_be_taken(as_user, zeynep, patient_ayse):
    response = as_user(zeynep).patch("/api/v1/me/", {"email": patient_ayse.email})

    assert response.status_code == 400 and "email" in response.json()["fields"]


def test_one_number_gets_only_three_codes_an_hour_whichever_accounts_ask(as_user, fake_twilio):
    accounts = [UserFactory(phone="+905321234567") for _ in range(4)]

    answers = [as_user(account).post(VERIFY, {"channel": "phone"}).status_code for account in accounts]

    assert answers == [202, 202, 202, 429]


def test_one_account_gets_only_five_codes_an_hour(as_user, zeynep, fake_twilio):
    client = as_user(zeynep)

    answers = [client.post(VERIFY, {"channel": channel}) for channel in ["phone", "email"] * 3]

    # three per destination would allow the sixth (the third e-mail): the per-user budget stops it
    assert [a.status_code for a in answers] == [202, 202, 202, 202, 202, 429]
    assert answers[-1].json()["code"] == "throttled"


def test_one_client_address_gets_only_ten_codes_an_hour(as_user, fake_twilio):
    answers = [as_user(UserFactory()).post(VERIFY, {"channel": "phone"}).status_code for _ in range(11)]

    assert answers == [202] * 10 + [429]


def test_without_a_phone_there_is_nothing_to_verify(as_user):
    response = as_user(UserFactory(phone="")).post(VERIFY, {"channel": "phone"})

    assert response.status_code == 400 and "channel" in response.json()["fields"]
