"""The portal in a real browser: Playwright for Python driving Debian's Chromium against a live
server, as a doctor and a receptionist work at their desks. axe-core checks every portal page in
both languages at 1280 and 390 px; screenshots of the main pages go to var/screenshots/.

Needs /usr/bin/chromium and tools/axe (scripts/install_browser_tools.sh, which `make test-services`
runs). Marked postgres: the services run owns them; the embedded run skips them.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from appointments.confirmation import appointment_reply
from appointments.demo import create_demo_schedule
from appointments.models import Appointment, VisitType, WorkingHours
from reviews.models import Review
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.conftest import REQUIRE_SERVICES, client_for
from tests.health_profiles.scenario import full_profile, share_with
from tests.reviews.factories import past_appointment
from tests.second_factor import confirmed_totp_device, totp_code, verified_client

# The live server makes every test transactional; the marker (not only the fixture) tells
# pytest-django to serialize the migrations' rows (specialties, consent texts) so that each test
# after a flush gets them back.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = "/usr/bin/chromium"
AXE = Path(settings.BASE_DIR) / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "browser-Test-password-7"  # noqa: S105  (a test user's)
WIDTHS = (1280, 390)
LANGUAGES = ("tr", "en")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium; scripts/install_browser_tools.sh)"
    if not AXE.exists():
        return "axe-core is missing (scripts/install_browser_tools.sh)"
    return None


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker):
    missing = _missing()
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
    # are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections

    saved = getattr(connections["default"], "_test_serialized_contents", None)
    playwright = sync_playwright().start()
    # With that loop running, asgiref hands this thread a new connection object: give it the
    # migrations' rows serialized at set-up, which serialized rollback restores after each flush.
    connections["default"]._test_serialized_contents = saved
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield chromium
    chromium.close()
    playwright.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def new_page(browser, live_server, *, user=None, language="tr", width=1280):
    """A page in a fresh browser context, with a verified staff session when a user is given."""
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    host = live_server.url.split("://", 1)[1].split(":")[0]
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
    if user is not None:
        session = verified_client(user).cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"})
    context.add_cookies(cookies)
    return context.new_page()


def serious_violations(page) -> list:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]][:3])
        for violation in result["violations"]
        if violation["impact"] in {"critical", "serious"}
    ]


@pytest.fixture
def clinic_day(patient_ayse, patient_mehmet, doctor_x, clinic_x):
    """A booked online visit with Ayşe (who shares her profile) and one in person with Mehmet, at a
    clinic that asks for confirmation: Mehmet's awaits it, and his unclear reply is flagged."""
    clinic_x.requires_confirmation = True
    clinic_x.save(update_fields=["requires_confirmation"])
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    grant_booking_consent(patient_mehmet)
    day = working_day()
    online = book(patient_ayse, doctor_x, at(day, 10), visit_reason="Çarpıntı-BRW", visit_type=VisitType.ONLINE)
    in_person = book(patient_mehmet, doctor_x, at(day, 14), visit_reason="Kontrol-BRW")
    patient_mehmet.phone_verified = True
    patient_mehmet.save(update_fields=["phone_verified"])
    assert appointment_reply(phone=str(patient_mehmet.phone), body="?", channel="sms").result == "unclear"
    full_profile(patient_ayse)
    share = share_with(patient_ayse, doctor_x, categories=["allergy", "medication"])
    visited = past_appointment(patient=patient_ayse, doctor=doctor_x)
    Review.objects.create(
        appointment=visited, patient=patient_ayse, doctor=doctor_x, rating=5, comment="İlgili-BRW", is_published=True
    )
    for user in (doctor_x.user, patient_ayse):
        user.set_password(PASSWORD)
        user.save()
    return {"day": day, "online": online, "in_person": in_person, "share": share}


def test_a_doctor_signs_in_reads_the_shared_profile_and_loses_it_when_the_patient_withdraws(
    browser, live_server, doctor_x, patient_ayse, clinic_day
):
    # given: the doctor signs in with the password and the code of their authenticator app
    device = confirmed_totp_device(doctor_x.user)
    page = new_page(browser, live_server)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", doctor_x.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("#id_code", totp_code(device))
    page.click("main button[type=submit]")
    assert page.url.startswith(f"{live_server.url}/portal/")

    # when: the day agenda of the visit, then the online appointment
    page.goto(f"{live_server.url}/portal/?view=day&date={clinic_day['day'].isoformat()}")
    assert "Ayşe" in page.inner_text("main") and "10:00" in page.inner_text("main")
    page.screenshot(path=str(_shot("doctor-day-agenda")), full_page=True)
    page.click("text=10:00")
    body = page.inner_text("main")
    assert "Çarpıntı-BRW" in body  # the visit reason: an audited read
    assert page.locator("dd a[target=_blank]").count() == 1  # the meeting link of the online visit
    page.screenshot(path=str(_shot("doctor-appointment")), full_page=True)
    page.click("text=Paylaşılan sağlık profili")
    assert "Penisilin-alerjisi-ZQX" in page.inner_text("main")
    assert "Metformin-ZQX" in page.inner_text("main")

    # then: the patient withdraws the share through the API, and the profile is gone
    withdrawn = client_for(patient_ayse).post(f"/api/v1/consents/{clinic_day['share'].id}/withdraw/")
    assert withdrawn.status_code in {200, 201, 204}, withdrawn.content
    response = page.reload()
    assert response.status == 404
    assert "Penisilin-alerjisi-ZQX" not in page.content()
    page.goto(f"{live_server.url}/portal/appointments/{clinic_day['online'].id}/")
    assert page.locator("text=Paylaşılan sağlık profili").count() == 0


def test_a_receptionist_edits_working_hours_and_the_slots_api_follows(
    browser, live_server, receptionist_x, doctor_x, patient_mehmet, clinic_day
):
    day = clinic_day["day"]
    hours = WorkingHours.objects.get(doctor=doctor_x, weekday=day.weekday())
    slots_url = f"/api/v1/doctors/{doctor_x.id}/slots/?from={day}&to={day}"
    before = [slot["start"] for slot in client_for(patient_mehmet).get(slots_url).json()]
    assert at(day, 16).isoformat() in before

    page = new_page(browser, live_server, user=receptionist_x)
    page.goto(f"{live_server.url}/portal/doctors/")
    page.click(f"a[href='/portal/doctors/{doctor_x.id}/schedule/']")
    row = page.locator("form.hours", has=page.locator(f"input[name=id][value='{hours.id}']"))
    row.locator("input[name=end_time]").fill("15:00")
    row.locator("button[value=hours-update]").click()
    assert page.locator("[role=status]").count() == 1

    after = [slot["start"] for slot in client_for(patient_mehmet).get(slots_url).json()]
    assert at(day, 16).isoformat() not in after and at(day, 14, 30).isoformat() in after
    hours.refresh_from_db()
    assert hours.end_time.hour == 15


def test_time_off_over_a_booked_visit_shows_the_conflict_and_cancels_it_with_notice(
    browser, live_server, receptionist_x, doctor_x, clinic_day
):
    day, online = clinic_day["day"], clinic_day["online"]
    page = new_page(browser, live_server, user=receptionist_x, language="en")
    page.goto(f"{live_server.url}/portal/doctors/{doctor_x.id}/time-off/")
    page.fill("input[name=start]", f"{day.isoformat()}T09:00")
    page.fill("input[name=end]", f"{day.isoformat()}T12:00")
    page.click("text=Save the time off")

    conflict = page.locator("#conflicts")
    assert conflict.get_attribute("role") == "alert"
    assert "Ayşe" in conflict.inner_text() and "Mehmet" not in conflict.inner_text()
    online.refresh_from_db()
    assert online.status == Appointment.Status.BOOKED  # nothing cancelled before the second step
    page.screenshot(path=str(_shot("reception-time-off-conflict")), full_page=True)

    page.click("text=Save the time off and cancel these appointments")
    assert "1 appointment cancelled" in page.inner_text("[role=status]")
    online.refresh_from_db()
    assert online.status == Appointment.Status.CANCELLED_BY_CLINIC
    assert online.history.filter(to_status="cancelled_by_clinic", actor=receptionist_x).exists()
    assert clinic_day["in_person"].__class__.objects.get(pk=clinic_day["in_person"].pk).status == "booked"


def test_a_receptionist_opening_a_health_profile_gets_the_portal_404_page(
    browser, live_server, receptionist_x, patient_ayse, clinic_day
):
    page = new_page(browser, live_server, user=receptionist_x)

    response = page.goto(f"{live_server.url}/portal/patients/{patient_ayse.id}/health-profile/")

    assert response.status == 404
    assert page.locator("html").get_attribute("lang") == "tr"
    assert page.inner_text("h1") == "Sayfa bulunamadı"
    assert "Penisilin" not in page.content() and "{" not in page.inner_text("body")


def _portal_pages(ids: dict) -> list[str]:
    """Every portal GET page with its parameters filled (the list is checked against the URLconf)."""
    from django.urls import get_resolver

    portal = get_resolver().url_patterns
    routes = []
    for pattern in portal:
        if getattr(pattern, "namespace", None) == "portal":
            for inner in pattern.url_patterns:
                routes.append((f"/portal/{inner.pattern}", inner.name))
    skipped = {"login", "logout", "password-set", "second-factor", "second-factor-enrol"}
    skipped |= {"appointment-action", "review-reply", "appeal-decide", "no-show-policy"}  # POST only
    pages = []
    for route, name in routes:
        if name in skipped:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(ids[match.group(1)]), route)
        pages.append(url)
    return pages


def test_every_portal_page_refuses_anonymous_users_patients_and_staff_of_another_clinic(
    browser, live_server, patient_ayse, staff_y, doctor_y, doctor_x, clinic_day
):
    review = Review.objects.get(doctor=doctor_x)
    ids = {
        "appointment_id": clinic_day["online"].id,
        "review_id": review.id,
        "doctor_id": doctor_x.id,
        "patient_id": patient_ayse.id,
    }
    pages = _portal_pages(ids)
    assert len(pages) >= 8

    anonymous = new_page(browser, live_server)
    patient = new_page(browser, live_server, user=patient_ayse)
    outsider = new_page(browser, live_server, user=staff_y)
    other_doctor = new_page(browser, live_server, user=doctor_y.user)
    for url in pages:
        anonymous.goto(live_server.url + url)
        assert anonymous.url.startswith(f"{live_server.url}/portal/login/"), url

        assert patient.goto(live_server.url + url).status == 403, url
        assert patient.locator("html").get_attribute("lang") == "tr"

        for stranger in (outsider, other_doctor):
            response = stranger.goto(live_server.url + url)
            body = stranger.content()
            assert response.status in {200, 403, 404}, url
            assert "Ayşe" not in body and "Çarpıntı-BRW" not in body and "İlgili-BRW" not in body, url
            if "<uuid:" in url or any(str(value) in url for value in ids.values()):
                assert response.status == 404, url


def _shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_every_portal_page_passes_axe_in_both_languages_at_desk_and_phone_width(
    browser, live_server, doctor_x, receptionist_x, patient_ayse, clinic_day
):
    """0 critical and 0 serious axe-core violations; no page wider than the phone."""
    appointment = clinic_day["online"].id
    doctor_pages = [
        "/portal/",
        "/portal/?view=week&date=" + clinic_day["day"].isoformat(),
        f"/portal/appointments/{appointment}/",
        "/portal/reviews/",
        "/portal/shared-profiles/",
        f"/portal/patients/{patient_ayse.id}/health-profile/",
        f"/portal/doctors/{doctor_x.id}/schedule/",
    ]
    staff_pages = [
        "/portal/?view=week&date=" + clinic_day["day"].isoformat(),
        f"/portal/appointments/{clinic_day['in_person'].id}/",
        "/portal/doctors/",
        f"/portal/doctors/{doctor_x.id}/schedule/",
        f"/portal/doctors/{doctor_x.id}/time-off/",
        "/portal/appeals/",
        "/portal/unclear-replies/",
        "/portal/no-such-page/",
    ]
    public_pages = ["/", "/portal/login/"]
    found = {}
    checked = 0
    for language in LANGUAGES:
        for width in WIDTHS:
            for user, pages in ((None, public_pages), (doctor_x.user, doctor_pages), (receptionist_x, staff_pages)):
                page = new_page(browser, live_server, user=user, language=language, width=width)
                for url in pages:
                    page.goto(live_server.url + url)
                    assert page.locator("html").get_attribute("lang") == language, url
                    assert page.title().strip(" ·"), url
                    problems = serious_violations(page)
                    if problems:
                        found[(url, language, width)] = problems
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        found[(url, language, width)] = [("wider than the viewport", wide)]
                    checked += 1
                    if language == "tr" and url in {"/portal/", "/portal/doctors/"}:
                        who = "doctor" if user == doctor_x.user else "reception"
                        page.screenshot(path=str(_shot(f"{who}-{url.strip('/').replace('/', '-')}-{width}")))
                    if url.startswith("/portal/?view=week"):
                        who = "doctor" if user == doctor_x.user else "reception"
                        page.screenshot(path=str(_shot(f"{who}-week-{language}-{width}")), full_page=True)
                page.context.close()
    assert checked == len(LANGUAGES) * len(WIDTHS) * (len(doctor_pages) + len(staff_pages) + len(public_pages))
    assert found == {}
