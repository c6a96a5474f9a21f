"""`manage.py seed_demo` (what `make run` loads) is idempotent and its printed logins work."""

import io
from base64 import b32encode

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Clinic, ClinicMembership, Doctor, User
from appointments.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_KEY, DOCTORS, PATIENTS
from tests.second_factor import totp_code

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (User.objects.count(), Clinic.objects.count(), Doctor.objects.count(), ClinicMembership.objects.count())


def test_it_seeds_every_role_once_however_often_it_runs():
    _seed()
    first = _counts()
    _seed()

    assert _counts() == first
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"admin", "clinic_staff", "doctor", "patient"}
    assert Clinic.objects.count() == 2
    assert Doctor.objects.values("specialty").distinct().count() >= 3
    assert set(ClinicMembership.objects.values_list("role", flat=True)) == {"admin", "receptionist"}
    assert User.objects.filter(role="patient").count() == 2


def test_a_rerun_keeps_what_exists_and_changes_nothing(django_assert_max_num_queries):
    """`make run` on a warm machine: no password reset, no re-seed, a handful of queries, no hashing."""
    _seed()
    user = User.objects.get(email=PATIENTS[0][0])
    user.set_password("changed-by-the-demo-user-42")
    user.first_name = "Renamed"
    user.save()

    with django_assert_max_num_queries(8):  # 3 of them: the encryption-canary startup check
        out = _seed()

    user.refresh_from_db()
    assert user.check_password("changed-by-the-demo-user-42") and user.first_name == "Renamed"
    assert "nothing changed" in out and DEMO_PASSWORD in out


def test_a_rerun_brings_back_only_what_is_missing():
    _seed()
    kept = User.objects.get(email=PATIENTS[0][0])
    kept.set_password("changed-by-the-demo-user-42")
    kept.save()
    missing = Doctor.objects.get(user__email=DOCTORS[0].email)
    missing.working_hours.all().delete()
    missing.breaks.all().delete()
    missing.delete()

    _seed()

    doctor = Doctor.objects.get(user__email=DOCTORS[0].email)
    assert doctor.working_hours.exists() and doctor.clinics.exists()
    assert User.objects.get(email=PATIENTS[0][0]).check_password("changed-by-the-demo-user-42")


def test_it_prints_the_logins_and_urls():
    out = _seed()

    assert DEMO_PASSWORD in out
    for user in User.objects.all():
        assert user.email in out
    assert "/api/docs/" in out and "/admin/" in out


def test_the_printed_logins_open_the_api(api):
    _seed()

    for user in User.objects.all():
        body = {"email": user.email, "password": DEMO_PASSWORD}
        if user.role != "patient":
            # What an authenticator app holding the printed demo key shows (a code works once).
            device = TOTPDevice.objects.get(user=user)
            assert device.key == DEMO_TOTP_KEY
            body["otp"] = totp_code(device)
        response = api.post("/api/v1/auth/token/", body, format="json")
        assert response.status_code == 200, (user.email, response.content)


def test_it_prints_the_demo_second_factor_key():
    out = _seed()

    assert b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode() in out
    assert "otpauth://totp/" in out


def test_the_demo_doctors_are_found_by_search(api):
    _seed()

    response = api.get("/api/v1/doctors/", {"specialty": "cardiology", "city": "İstanbul"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_it_refuses_to_run_in_production():
    with override_settings(PRODUCTION=True), pytest.raises(CommandError):
        _seed()
    assert not User.objects.exists()
