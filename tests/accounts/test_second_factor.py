"""Doctors, clinic staff and admins give a TOTP code (or a recovery code) after their password: at
/auth/token/, in the portal (with its enrolment page) and in the admin. The API takes bearer tokens
only, so a portal session opens nothing there."""

import re
from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from tests.factories import TEST_PASSWORD
from tests.health_profiles.scenario import full_profile, share_with
from tests.second_factor import confirmed_totp_device, totp_code, verified_client

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def _portal_login(user, address="192.0.2.50") -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/portal/login/", {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content
    return client


# --- the API ------------------------------------------------------------------------------------


def test_a_doctor_with_the_right_password_but_no_code_gets_second_factor_required(api, doctor_x):
    confirmed_totp_device(doctor_x.user)

    response = api.post(TOKEN, {"email": doctor_x.user.email, "password": TEST_PASSWORD})

    assert response.status_code == 401
    assert response.json()["code"] == "second_factor_required"
    assert "access" not in response.json()


def test_a_doctor_with_password_and_code_gets_tokens(api, doctor_x):
    device = confirmed_totp_device(doctor_x.user)

    response = api.post(TOKEN, {"email": doctor_x.user.email, "password": TEST_PASSWORD, "otp": totp_code(device)})

    assert response.status_code == 200, response.json()
    assert {"access", "refresh"} <= set(response.json())


def test_a_wrong_code_gets_second_factor_required_and_a_wrong_password_invalid_credentials(api, receptionist_x):
    device = confirmed_totp_device(receptionist_x)
    wrong_code = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    wrong_otp = api.post(TOKEN, {"email": receptionist_x.email, "password": TEST_PASSWORD, "otp": wrong_code})
    wrong_password = api.post(
        TOKEN, {"email": receptionist_x.email, "password": "not-the-password-1", "otp": totp_code(device)}
    )

    assert (wrong_otp.status_code, wrong_otp.json()["code"]) == (401, "second_factor_required")
    assert (wrong_password.status_code, wrong_password.json()["code"]) == (401, "invalid_credentials")


def test_staff_without_a_device_cannot_get_tokens_and_patients_need_no_code(api, clinic_admin_x, patient_ayse):
    staff = api.post(TOKEN, {"email": clinic_admin_x.email, "password": TEST_PASSWORD, "otp": "123456"})
    patient = api.post(TOKEN, {"email": patient_ayse.email, "password": TEST_PASSWORD})

    assert (staff.status_code, staff.json()["code"]) == (401, "second_factor_required")
    assert patient.status_code == 200


def test_a_recovery_code_works_once_at_the_api(api, platform_admin):
    enrolment = _enrol(_portal_login(platform_admin))  # admins enrol in the portal too
    code = enrolment["codes"][0]

    first = api.post(TOKEN, {"email": platform_admin.email, "password": TEST_PASSWORD, "otp": code})
    again = api.post(TOKEN, {"email": platform_admin.email, "password": TEST_PASSWORD, "otp": code})

    assert first.status_code == 200
    assert again.status_code == 401


def test_a_verified_portal_session_opens_nothing_on_the_api(doctor_x, patient_ayse):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    portal = verified_client(doctor_x.user)
    assert portal.get(f"/portal/patients/{patient_ayse.id}/health-profile/").status_code == 200

    me = portal.get("/api/v1/me/")
    shared = portal.get("/api/v1/doctor/shared-profiles/")

    assert (me.status_code, me.json()["code"]) == (401, "not_authenticated")
    assert shared.status_code == 401


# --- the portal ---------------------------------------------------------------------------------


def _enrol(client) -> dict:
    page = client.get("/portal/second-factor/enrol/")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', page.content.decode()).group(1)
    uri = re.search(r'id="otpauth-uri">([^<]+)<', page.content.decode()).group(1)
    code = TOTP(b32decode(secret)).token()
    done = client.post("/portal/second-factor/enrol/", {"code": f"{code:06d}"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    return {"secret": secret, "uri": uri, "codes": codes}


def test_a_doctor_without_a_second_factor_is_sent_to_enrol_and_then_gets_in(doctor_x, patient_ayse):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    client = _portal_login(doctor_x.user)

    first = client.get("/portal/")
    to_enrol = client.get(first["Location"])
    enrolment = _enrol(client)
    agenda = client.get("/portal/")

    assert first.status_code == 302 and first["Location"].startswith("/portal/second-factor/")
    assert to_enrol["Location"].startswith("/portal/second-factor/enrol/")
    assert enrolment["uri"].startswith("otpauth://totp/Medplatform%3A")
    assert len(enrolment["codes"]) == 10
    assert agenda.status_code == 200
    assert TOTPDevice.objects.filter(user=doctor_x.user, confirmed=True).count() == 1


def test_after_enrolment_a_login_asks_for_the_code_and_refuses_a_wrong_one(doctor_x):
    device = confirmed_totp_device(doctor_x.user)
    client = _portal_login(doctor_x.user)

    enrol_again = client.get("/portal/second-factor/enrol/")
    wrong = client.post("/portal/second-factor/", {"code": "000000" if totp_code(device) != "000000" else "111111"})
    still_out = client.get("/portal/")
    with freeze_time(auto_tick_seconds=0) as clock:
        clock.tick(31)  # the next 30-second step: django-otp throttles a device 1 s after a failure
        right = client.post("/portal/second-factor/?next=/portal/shared-profiles/", {"code": totp_code(device)})
        shared = client.get("/portal/shared-profiles/")

    assert enrol_again.status_code == 302 and enrol_again["Location"].startswith("/portal/second-factor/")
    assert wrong.status_code == 200 and "id_code" in wrong.content.decode()
    assert still_out.status_code == 302
    assert right.status_code == 302 and right["Location"] == "/portal/shared-profiles/"
    assert shared.status_code == 200


def test_a_recovery_code_lets_a_doctor_in_once(doctor_x):
    client = verified_client(doctor_x.user)
    client.post("/portal/logout/")
    TOTPDevice.objects.filter(user=doctor_x.user).delete()
    enrolling = _portal_login(doctor_x.user)
    codes = _enrol(enrolling)["codes"]

    first = _portal_login(doctor_x.user, address="192.0.2.51")
    used = first.post("/portal/second-factor/", {"code": codes[0]})
    second = _portal_login(doctor_x.user, address="192.0.2.52")
    reused = second.post("/portal/second-factor/", {"code": codes[0]})

    assert used.status_code == 302 and first.get("/portal/").status_code == 200
    assert reused.status_code == 200 and second.get("/portal/").status_code == 302
    assert not StaticToken.objects.filter(token=codes[0]).exists()


@pytest.mark.parametrize("path", ["/portal/", "/portal/shared-profiles/", "/portal/patients/{patient}/health-profile/"])
def test_a_doctor_without_the_second_factor_opens_no_page_with_patient_data(doctor_x, patient_ayse, path):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    confirmed_totp_device(doctor_x.user)
    client = _portal_login(doctor_x.user)

    response = client.get(path.format(patient=patient_ayse.id))

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/second-factor/")


def test_patients_get_neither_the_portal_nor_an_enrolment(patient_ayse):
    client = Client()
    client.force_login(patient_ayse)

    assert client.get("/portal/").status_code == 403
    assert client.get("/portal/second-factor/enrol/").status_code == 403
    assert not TOTPDevice.objects.filter(user=patient_ayse).exists()


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_needs_the_second_factor(platform_admin):
    password_only = Client()
    password_only.force_login(platform_admin)
    device = confirmed_totp_device(platform_admin)

    refused = password_only.get("/admin/")
    form = Client()
    no_code = form.post("/admin/login/", {"username": platform_admin.email, "password": TEST_PASSWORD})
    with_code = form.post(
        "/admin/login/?next=/admin/",
        {
            "username": platform_admin.email,
            "password": TEST_PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": totp_code(device),
        },
    )

    assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/")
    assert no_code.status_code == 200
    assert with_code.status_code == 302 and with_code["Location"] == "/admin/"
    assert form.get("/admin/").status_code == 200
