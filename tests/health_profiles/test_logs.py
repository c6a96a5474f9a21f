"""Health values never reach the logs: every log record of a full scenario, at DEBUG, with the SQL
of every query, is searched for the entries' names and values."""

import datetime
import logging

import pytest
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from privacy.models import Purpose
from privacy.services import current_version
from tests.conftest import client_for
from tests.health_profiles.scenario import ENTRY_VALUES, PLAINTEXTS

pytestmark = pytest.mark.django_db

LOGGERS = ["", "django", "django.request", "django.server", "django.db.backends", "django.security"]


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    handler = Capture()
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    # Query logging with parameters, as under DEBUG=True.
    saved_debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield handler.lines
    finally:
        connection.force_debug_cursor = saved_debug_cursor
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def json_body(category: str) -> dict:
    values = ENTRY_VALUES[category]
    return {
        "category": category,
        **{k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in values.items()},
    }


def test_a_full_scenario_logs_no_health_value(captured_logs, patient_ayse, patient_mehmet, doctor_x, doctor_y):
    ayse = client_for(patient_ayse)
    # consent, four entries, a change, refused input that contains health values
    storage = ayse.post("/api/v1/consents/", {"purpose": "health_profile_storage", "text_version": 1}).json()
    entry_ids = [ayse.post("/api/v1/health-profile/entries/", json_body(c)).json()["id"] for c in ENTRY_VALUES]
    ayse.patch(f"/api/v1/health-profile/entries/{entry_ids[1]}/", {"dose": "750mg-ZQX"})
    assert (
        ayse.post("/api/v1/health-profile/entries/", {**json_body("allergy"), "severity": "Nefes-ZQX"}).status_code
        == 400
    )
    assert (
        ayse.post("/api/v1/health-profile/entries/", {**json_body("condition"), "dose": "Dose-ZQX"}).status_code == 400
    )
    assert client_for(patient_mehmet).post("/api/v1/health-profile/entries/", json_body("allergy")).status_code == 403
    # shares, reads by the doctor, refused reads by others
    share = ayse.post(
        "/api/v1/consents/",
        {
            "purpose": "health_profile_share",
            "text_version": current_version(Purpose.HEALTH_PROFILE_SHARE),
            "doctor": str(doctor_x.id),
            "categories": ["allergy", "medication"],
            "expires_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
        },
    ).json()
    ayse.post(
        "/api/v1/consents/",
        {
            "purpose": "health_profile_share",
            "text_version": current_version(Purpose.HEALTH_PROFILE_SHARE),
            "doctor": str(doctor_y.id),
            "categories": ["allergy"],
        },
    )
    assert client_for(doctor_x.user).get(f"/api/v1/patients/{patient_ayse.id}/health-profile/").status_code == 200
    assert client_for(doctor_y.user).get(f"/api/v1/patients/{patient_ayse.id}/health-profile/").status_code == 200
    assert client_for(patient_mehmet).get(f"/api/v1/patients/{patient_ayse.id}/health-profile/").status_code == 404
    with freeze_time(timezone.now() + datetime.timedelta(days=2)):
        expired = client_for(doctor_x.user).get(f"/api/v1/patients/{patient_ayse.id}/health-profile/")
        assert expired.status_code == 404
    # the patient's own reads and exports
    for path in (
        "/api/v1/health-profile/",
        "/api/v1/health-profile/entries/",
        "/api/v1/health-profile/access-log/",
        "/api/v1/health-profile/export/?format=json",
        "/api/v1/health-profile/export/?format=fhir",
    ):
        assert ayse.get(path).status_code == 200
    # withdrawals
    assert ayse.post(f"/api/v1/consents/{share['id']}/withdraw/").status_code == 200
    assert ayse.post(f"/api/v1/consents/{storage['id']}/withdraw/").status_code == 200

    logs = "\n".join(captured_logs)
    # The capture saw the scenario: the SQL of the writes and the refused requests.
    assert "INSERT INTO" in logs and "health_profiles_healthentry" in logs
    assert "Not Found: /api/v1/patients/" in logs
    assert "Bad Request: /api/v1/health-profile/entries/" in logs
    values = [*PLAINTEXTS, "750mg-ZQX", "Nefes-ZQX", "Dose-ZQX", "ZQX"]
    assert [value for value in values if value in logs or value.encode().hex() in logs] == []
