"""Portal sessions end after 30 idle minutes and 12 hours in all; every page carries a
Content-Security-Policy (with the nonce its inline style and script use) and a Permissions-Policy."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests.second_factor import verified_client

pytestmark = pytest.mark.django_db


def _nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    return re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)


def test_a_portal_page_carries_both_policies_and_its_style_the_nonce(doctor_x):
    page = verified_client(doctor_x.user).get("/portal/")

    assert page.status_code == 200
    assert f'<style nonce="{_nonce(page)}">' in page.content.decode()
    assert "camera=()" in page["Permissions-Policy"] and "geolocation=()" in page["Permissions-Policy"]


def test_the_api_docs_run_under_the_policy_with_nonces_on_their_inline_parts(client):
    page = client.get("/api/docs/")

    nonce = _nonce(page)
    html = page.content.decode()
    assert page.status_code == 200
    # Every inline <script> and <style> carries the nonce; the rest is our own static files.
    assert re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html) == [f' nonce="{nonce}"']
    assert re.findall(r"<style([^>]*)>", html) == [f' nonce="{nonce}"']
    assert all(src.startswith("/static/") for src in re.findall(r'<script src="([^"]+)"', html))
    assert "SwaggerUIBundle" in html
    assert "Permissions-Policy" in page


def test_the_api_answers_with_the_policies_too(api):
    response = api.get("/api/v1/specialties/")

    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_a_session_idle_longer_than_30_minutes_is_logged_out(doctor_x):
    client = verified_client(doctor_x.user)
    start = timezone.now()

    with freeze_time(start + timedelta(minutes=29)):
        active = client.get("/portal/")
    with freeze_time(start + timedelta(minutes=29 + 29)):
        still_active = client.get("/portal/")  # 58 minutes in all, never 30 idle
    with freeze_time(start + timedelta(minutes=29 + 29 + 31)):
        idle = client.get("/portal/")

    assert active.status_code == 200
    assert still_active.status_code == 200
    assert idle.status_code == 302 and idle["Location"].startswith("/portal/login/")


def test_an_active_session_ends_12_hours_after_the_login(doctor_x):
    client = verified_client(doctor_x.user)
    start = timezone.now()
    assert client.get("/portal/").status_code == 200  # stamps the session

    codes = {}
    for minutes in range(20, 12 * 60 + 40, 20):
        with freeze_time(start + timedelta(minutes=minutes)):
            codes[minutes] = client.get("/portal/").status_code

    assert {code for minutes, code in codes.items() if minutes <= 12 * 60 - 1} == {200}
    assert codes[12 * 60 + 20] == 302
