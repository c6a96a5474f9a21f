"""The landing page and the error pages: HTML for people, the API's JSON under /api/."""

import pytest
from django.test import Client

from tests.second_factor import verified_client

pytestmark = pytest.mark.django_db


def test_the_landing_page_links_the_portal_the_api_docs_and_the_admin_in_both_languages():
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    turkish = Client(HTTP_ACCEPT_LANGUAGE="tr").get("/")

    for response in (english, turkish):
        body = response.content.decode()
        assert response.status_code == 200
        assert all(link in body for link in ('href="/portal/"', 'href="/api/docs/"', 'href="/admin/"'))
    assert '<html lang="en">' in english.content.decode() and "API documentation" in english.content.decode()
    assert '<html lang="tr">' in turkish.content.decode() and "API belgeleri" in turkish.content.decode()


def test_a_missing_page_outside_the_api_is_the_portal_404_page_and_inside_it_json():
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/portal/no-such-page/")
    api = Client().get("/api/v1/no-such-endpoint/")

    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.content.decode()
    assert api.status_code == 404 and api.json()["code"] == "not_found"


def test_a_patient_in_the_portal_gets_the_html_403_page(patient_ayse):
    page = verified_client(patient_ayse, HTTP_ACCEPT_LANGUAGE="tr").get("/portal/")

    assert page.status_code == 403
    assert "<h1>İzin yok</h1>" in page.content.decode()


def test_the_admin_shows_times_in_the_clinic_time_zone(superuser_client, patient_ayse, doctor_x, clinic_x):
    from datetime import UTC, datetime

    from appointments.models import Appointment

    appointment = Appointment.objects.create(
        patient=patient_ayse,
        doctor=doctor_x,
        clinic=clinic_x,
        start=datetime(2030, 3, 4, 8, 0, tzinfo=UTC),  # 11:00 in İstanbul
        end=datetime(2030, 3, 4, 8, 30, tzinfo=UTC),
    )

    page = superuser_client.get(f"/admin/appointments/appointment/{appointment.id}/change/")

    assert page.status_code == 200
    assert "11:00" in page.content.decode()
