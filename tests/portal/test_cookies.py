"""The portal's cookie notice is accurate (issue 16): signing in and walking the main pages of a
doctor and of a receptionist sets no cookie but the session, the CSRF token and, when the language
switch is used, the language."""

import pytest
from django.conf import settings
from django.test import Client

from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.factories import TEST_PASSWORD
from tests.health_profiles.scenario import full_profile, share_with
from tests.second_factor import confirmed_totp_device, verified_client

pytestmark = pytest.mark.django_db


class CookieWatch:
    """Every Set-Cookie name the server sends, over every response."""

    def __init__(self):
        self.names: set[str] = set()
        self.responses = 0

    def __call__(self, response):
        self.names.update(response.cookies.keys())
        self.responses += 1
        return response


def test_signing_in_and_walking_the_portal_sets_only_strictly_necessary_cookies(
    patient_ayse, doctor_x, clinic_x, receptionist_x
):
    from appointments.demo import create_demo_schedule

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    booked = book(patient_ayse, doctor_x, at(working_day(), 10), visit_reason="Migren-COOKIE")
    other = book(patient_ayse, doctor_x, at(working_day(14), 11), visit_reason="Migren-COOKIE-2")
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    seen = CookieWatch()

    # the sign-in itself: the login page, the password, the second-factor page
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="tr")
    confirmed_totp_device(doctor_x.user)
    seen(anonymous.get("/portal/login/"))
    seen(anonymous.post("/portal/login/", {"username": doctor_x.user.email, "password": "wrong"}))
    login = seen(anonymous.post("/portal/login/", {"username": doctor_x.user.email, "password": TEST_PASSWORD}))
    assert login.status_code == 302
    seen(anonymous.get(login["Location"]))

    # a doctor's pages, an action with a message, the language switch and the log-out
    doctor = verified_client(doctor_x.user, HTTP_ACCEPT_LANGUAGE="tr")
    pages = [
        "/portal/",
        "/portal/?view=week",
        "/portal/reviews/",
        "/portal/shared-profiles/",
        f"/portal/patients/{patient_ayse.pk}/health-profile/",
        f"/portal/doctors/{doctor_x.pk}/schedule/",
        f"/portal/appointments/{booked.pk}/",
    ]
    for page in pages:
        response = seen(doctor.get(page))
        assert response.status_code == 200, page
        assert 'id="cookie-notice"' in response.content.decode()
    done = seen(doctor.post(f"/portal/appointments/{other.pk}/cancel/", {"reason": ""}))
    assert done.status_code == 302
    assert "iptal" in seen(doctor.get(done["Location"])).content.decode()
    seen(doctor.post("/i18n/setlang/", {"language": "en", "next": "/portal/"}))
    english = seen(doctor.get("/portal/"))
    assert "only the cookies it cannot work without" in english.content.decode()
    seen(doctor.post("/portal/logout/"))

    # a receptionist's pages
    desk = verified_client(receptionist_x, HTTP_ACCEPT_LANGUAGE="en")
    for page in ["/portal/", "/portal/doctors/", f"/portal/doctors/{doctor_x.pk}/time-off/"]:
        assert seen(desk.get(page)).status_code == 200, page

    allowed = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    kept = set(anonymous.cookies) | set(doctor.cookies) | set(desk.cookies)
    assert seen.responses >= 15
    assert seen.names <= allowed and kept <= allowed, (seen.names | kept) - allowed
    assert settings.CSRF_COOKIE_NAME in seen.names and settings.SESSION_COOKIE_NAME in seen.names
