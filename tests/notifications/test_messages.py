"""Message bodies: every kind in both languages, clinic and time only, never health data."""

import uuid

import pytest
from django.db import transaction

from accounts.models import User
from notifications.messages import render
from notifications.models import Channel, Kind
from notifications.services import notification_dispatch, notification_enqueue, preferences_update
from tests.factories import UserFactory
from tests.notifications.conftest import EVENT_KINDS, booking_context, grant_marketing

VISIT_REASONS = ["Göğüs ağrısı ve nefes darlığı", "HIV testi sonucu", "Depresyon kontrolü"]
HEALTH_ENTRIES = ["Penisilin alerjisi", "Metformin 500 mg", "Tip 2 diyabet"]


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
@pytest.mark.parametrize("language", ["tr", "en"])
@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_kind_renders_in_both_languages_with_clinic_and_time(kind, language, channel):
    context = booking_context(campaign_title="Bahar kampanyası")

    subject, body = render(
        kind=kind, language=language, channel=channel, recipient=User(first_name="Ayşe"), context=context
    )

    assert subject and body and "{" not in body
    if kind != Kind.MARKETING:
        assert "Klinik X" in body
    if kind not in (Kind.MARKETING, Kind.REVIEW_INVITATION):
        # 06:30 UTC is 09:30 in Istanbul
        assert ("12.03.2030 09:30" if language == "tr" else "12 Mar 2030, 09:30") in body
    for health_text in VISIT_REASONS + HEALTH_ENTRIES:
        assert health_text not in body


PHISHING_NAME = "Kartınızdan 4900 TL çekildi, iptal: https://evil.example/x"


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE])
@pytest.mark.parametrize("language", ["tr", "en"])
@pytest.mark.parametrize("kind", [*EVENT_KINDS, Kind.VERIFICATION_CODE])
def test_no_name_reaches_an_sms_or_whatsapp_body(kind, language, channel):
    recipient = User(first_name=PHISHING_NAME, last_name=PHISHING_NAME)
    context = booking_context(doctor_name=PHISHING_NAME, verification_id=str(uuid.uuid4()))

    _subject, body = render(kind=kind, language=language, channel=channel, recipient=recipient, context=context)

    assert "evil.example" not in body and "4900" not in body


def test_the_e_mail_greets_the_recipient_by_name_and_names_the_doctor():
    context = booking_context()

    _subject, body = render(
        kind=Kind.APPOINTMENT_BOOKED,
        language="en",
        channel=Channel.EMAIL,
        recipient=User(first_name="Ayşe"),
        context=context,
    )

    assert body.startswith("Dear Ayşe,") and "Dr. Ali Kaya" in body


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE])
def test_a_reset_link_is_never_rendered_as_a_short_message(channel):
    with pytest.raises(ValueError):
        render(kind=Kind.PASSWORD_RESET, language="tr", channel=channel, recipient=User(), context={})


@pytest.mark.django_db
def test_a_full_scenario_sends_no_visit_reason_or_health_entry_in_any_body(
    fake_twilio, django_capture_on_commit_callbacks
):
    # given: three patients whose appointments carry visit reasons the caller knows about
    from django.core import mail

    patients = [UserFactory(language=language, phone_verified=True) for language in ("tr", "en", "tr")]
    preferences_update(user=patients[1], whatsapp=True)
    grant_marketing(patients[2])

    # when: every kind of event happens to each of them
    with django_capture_on_commit_callbacks(execute=True):
        for patient, reason in zip(patients, VISIT_REASONS, strict=True):
            for kind in EVENT_KINDS:
                with transaction.atomic():
                    notification_enqueue(
                        recipient=patient,
                        kind=kind,
                        event_key=f"{kind}:{patient.pk}",
                        context=booking_context(campaign_title="Check-up indirimi"),
                    )
                with pytest.raises(ValueError):
                    notification_enqueue(recipient=patient, kind=kind, event_key="x", context={"visit_reason": reason})

    # then
    bodies = fake_twilio.bodies() + [message.body for message in mail.outbox]
    bodies += [message.subject for message in mail.outbox]
    print(f"scenario: {len(fake_twilio.messages)} SMS/WhatsApp and {len(mail.outbox)} e-mails searched")
    assert len(fake_twilio.messages) >= 3 * 6
    for body in bodies:
        for health_text in VISIT_REASONS + HEALTH_ENTRIES:
            assert health_text not in body


@pytest.mark.django_db
def test_the_body_is_in_the_recipients_language(fake_twilio, django_capture_on_commit_callbacks):
    english = UserFactory(language="en", phone_verified=True)
    preferences_update(user=english, email=False)
    with transaction.atomic():
        [row] = notification_enqueue(
            recipient=english, kind=Kind.APPOINTMENT_REMINDER, event_key="r", context=booking_context()
        )

    notification_dispatch(notification_id=str(row.id))

    assert fake_twilio.messages[0].body.startswith("Reminder: your appointment at Klinik X is on 12 Mar 2030, 09:30")


@pytest.mark.parametrize("event", ["rectification", "erasure"])
@pytest.mark.parametrize("language", ["tr", "en"])
def test_a_recipient_notice_names_the_patient_in_the_e_mail_only_and_no_health_data(event, language):
    context = {"notice_event": event, "patient_name": PHISHING_NAME}
    doctor = User(first_name="Ali")

    _subject, e_mail = render(
        kind=Kind.RECIPIENT_NOTICE, language=language, channel=Channel.EMAIL, recipient=doctor, context=context
    )
    shorts = [
        render(kind=Kind.RECIPIENT_NOTICE, language=language, channel=channel, recipient=doctor, context=context)[1]
        for channel in (Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE)
    ]

    assert e_mail.startswith(("Sayın Ali,", "Dear Ali,")) and PHISHING_NAME in e_mail and "{" not in e_mail
    words = {("tr", "erasure"): "sildirdi", ("en", "erasure"): "erased", ("tr", "rectification"): "düzelt"}
    assert words.get((language, event), "corrected") in e_mail
    for body in shorts:
        assert body and "{" not in body and "evil.example" not in body and "Ali" not in body
    for body in [e_mail, *shorts]:
        for health_text in VISIT_REASONS + HEALTH_ENTRIES:
            assert health_text not in body
