"""Processors and transfers abroad (KVKK Art. 9): the privacy summary names each processor with the
data it gets, its country and the legal basis of the transfer; a channel whose provider is abroad
and whose transfer basis is not configured sends nothing."""

import pytest
from django.db import transaction
from django.utils import translation

from appointments.demo import create_demo_schedule
from notifications.models import Channel, Kind, Notification
from notifications.processors import check_transfer_bases
from notifications.services import notification_enqueue
from privacy.subject_rights import privacy_summary
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.health_profiles.scenario import grant_storage, share_with
from tests.notifications.conftest import booking_context

pytestmark = pytest.mark.django_db


def enqueue(user, key: str) -> set[str]:
    with transaction.atomic():
        rows = notification_enqueue(
            recipient=user, kind=Kind.APPOINTMENT_BOOKED, event_key=key, context=booking_context()
        )
    return {row.channel for row in rows}


def test_sms_through_twilio_is_disabled_until_its_transfer_basis_is_set(fake_twilio, patient_ayse, settings):
    settings.TWILIO_TRANSFER_BASIS = ""
    assert Channel.SMS not in enqueue(patient_ayse, "p:1")
    assert not Notification.objects.filter(channel__in=[Channel.SMS, Channel.CONSOLE]).exists()

    settings.TWILIO_TRANSFER_BASIS = "standard_contract"
    assert Channel.SMS in enqueue(patient_ayse, "p:2")


def test_without_twilio_the_console_needs_no_basis(patient_ayse, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_TRANSFER_BASIS = ""

    assert Channel.CONSOLE in enqueue(patient_ayse, "p:3")


def test_email_through_a_provider_abroad_needs_a_basis_and_one_in_turkey_none(patient_ayse, settings):
    settings.EMAIL_PROVIDER_COUNTRY = "IE"
    settings.EMAIL_TRANSFER_BASIS = ""
    assert Channel.EMAIL not in enqueue(patient_ayse, "e:1")

    settings.EMAIL_TRANSFER_BASIS = "explicit_consent"
    assert Channel.EMAIL in enqueue(patient_ayse, "e:2")

    settings.EMAIL_PROVIDER_COUNTRY = "TR"
    settings.EMAIL_TRANSFER_BASIS = ""
    assert Channel.EMAIL in enqueue(patient_ayse, "e:3")


def test_an_unknown_transfer_basis_fails_the_system_check(settings):
    settings.TWILIO_TRANSFER_BASIS = "we_think_its_fine"

    assert [error.id for error in check_transfer_bases(None)] == ["notifications.E001"]
    settings.TWILIO_TRANSFER_BASIS = "adequacy"
    assert check_transfer_bases(None) == []


def test_the_summary_lists_the_doctor_the_clinic_and_the_sms_processor_with_its_country(
    fake_twilio, patient_ayse, doctor_x, clinic_x, settings
):
    settings.EMAIL_PROVIDER_NAME = "Posta A.Ş."
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    book(patient_ayse, doctor_x, at(working_day(), 11), visit_reason="Kontrol")
    grant_storage(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    assert Notification.objects.filter(recipient=patient_ayse, channel=Channel.SMS).exists()

    with translation.override("en"):
        summary = privacy_summary(user=patient_ayse)

    recipients = [name for entry in summary["processing"] for name in entry["recipients"]]
    assert any(doctor_x.name in name and clinic_x.name in name for name in recipients)
    processors = {p["name"]: p for entry in summary["processing"] for p in entry.get("processors", [])}
    twilio = processors["Twilio Inc."]
    assert twilio["country"] == "US" and twilio["abroad"] is True
    assert twilio["transfer_basis"] == "standard_contract"
    assert "standard contract" in twilio["transfer_basis_label"]
    assert "Twilio Inc. (US)" in recipients
    assert "health" in twilio["data"]  # "no health data"
