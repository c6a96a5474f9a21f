"""The no-show policy's privacy contract: retention, export, erasure, summary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from privacy import retention
from privacy.subject_rights import account_erase
from standing.models import Appeal, ClinicStanding, Strike
from tests.conftest import client_for
from tests.factories import TEST_PASSWORD
from tests.standing.conftest import appeal, no_shows

pytestmark = pytest.mark.django_db


def test_strikes_past_the_window_and_ended_blocks_are_destroyed_and_the_rest_kept(patient_ayse, doctor_x, settings):
    no_shows(patient_ayse, doctor_x, 3)
    old, *recent = Strike.objects.order_by("at")
    appeal(client_for(patient_ayse), old.id)
    Strike.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=settings.NO_SHOW_WINDOW_DAYS + 1))

    retention.destruction_run(now=timezone.now())

    assert set(Strike.objects.all()) == set(recent)
    assert not Appeal.objects.exists()
    # the block is still running: kept until the run after it ends
    assert ClinicStanding.objects.get().blocked_until is not None
    retention.destruction_run(now=timezone.now() + timedelta(days=31))
    assert not ClinicStanding.objects.exists()


def test_the_export_holds_the_strikes_appeals_and_block(patient_ayse, doctor_x):
    no_shows(patient_ayse, doctor_x, 3)
    strike = Strike.objects.order_by("at").first()
    appeal(client_for(patient_ayse), strike.id, reason="Hastanedeydim-QQV")

    export = client_for(patient_ayse).get("/api/v1/health-profile/export/?format=json").json()

    section = export
    assert len(section["no_show_strikes"]) == 3
    [appealed] = [s for s in section["no_show_strikes"] if s["id"] == str(strike.id)]
    assert appealed["appeal"]["reason"] == "Hastanedeydim-QQV"
    [block] = section["booking_blocks"]
    assert block["clinic_name"] == "Klinik X"


def test_erasure_removes_strikes_appeals_and_blocks(patient_ayse, patient_mehmet, doctor_x):
    no_shows(patient_ayse, doctor_x, 3)
    no_shows(patient_mehmet, doctor_x, 1, first_days_ago=10)
    appeal(client_for(patient_ayse), Strike.objects.filter(patient=patient_ayse).first().id)

    account_erase(user=patient_ayse, password=TEST_PASSWORD)

    assert not Strike.objects.filter(patient=patient_ayse).exists()
    assert not ClinicStanding.objects.filter(patient=patient_ayse).exists()
    assert not Appeal.objects.exists()
    assert Strike.objects.filter(patient=patient_mehmet).count() == 1


def test_the_privacy_summary_names_the_clinic(patient_ayse, doctor_x):
    no_shows(patient_ayse, doctor_x, 1)

    summary = client_for(patient_ayse).get("/api/v1/privacy/summary/").json()

    assert any("Klinik X" in entry["recipients"] for entry in summary["processing"] if entry.get("recipients"))
