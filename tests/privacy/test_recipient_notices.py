"""Recipient notices (KVKK Art. 11, issue 16): after an answered rectification request or an
erasure, the doctor and the clinic staff who received the patient's data are told, without any
health content, and each notice is logged with the request."""

import pytest
from django.core import mail

from notifications.fake_twilio import FakeTwilio
from notifications.models import Channel, Kind, Notification
from privacy.models import AuditEntry, DataSubjectRequest
from privacy.subject_rights import account_erase, privacy_request_create, privacy_request_update
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

VISIT_REASON = "Migren-RECIPIENT-NOTICE"


@pytest.fixture
def scenario(patient_ayse, doctor_x, clinic_x, clinic_admin_x, receptionist_x):
    """Ayşe booked doctor_x at clinic_x (with a visit reason) and shares her profile with doctor_x;
    doctor_y and his clinic's staff never saw her."""
    from appointments.demo import create_demo_schedule
    from tests.appointments.conftest import at, book, grant_booking_consent, working_day
    from tests.health_profiles.scenario import PLAINTEXTS, full_profile, share_with

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    book(patient_ayse, doctor_x, at(working_day(), 10), visit_reason=VISIT_REASON)
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    return {
        "told": {doctor_x.user_id, clinic_admin_x.pk, receptionist_x.pk},
        "health": [VISIT_REASON, *PLAINTEXTS],
    }


@pytest.fixture
def twilio(settings):
    """The fake Twilio the real SDK talks to: the short messages' bodies as a phone gets them."""
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_TRANSFER_BASIS = "standard_contract"
    settings.TWILIO_SMS_FROM = "+15005550006"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield fake
    fake.stop()


def _notices():
    return list(Notification.objects.filter(kind=Kind.RECIPIENT_NOTICE))


def _texts(twilio):
    return [m.body for m in mail.outbox] + [m.subject for m in mail.outbox] + twilio.bodies()


def test_an_answered_rectification_request_tells_the_doctor_and_the_clinic_staff_and_logs_each_notice(
    scenario, patient_ayse, staff_y, doctor_y, django_capture_on_commit_callbacks, twilio
):
    officer = UserFactory(role="admin", is_staff=True)
    request = privacy_request_create(subject=patient_ayse, type=DataSubjectRequest.Type.RECTIFICATION)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_update(privacy_request=request, actor=officer, status=DataSubjectRequest.Status.ANSWERED)

    notices = _notices()
    assert {notice.recipient_id for notice in notices} == scenario["told"]
    assert staff_y.pk not in {n.recipient_id for n in notices} and doctor_y.user_id not in {
        n.recipient_id for n in notices
    }
    logged = AuditEntry.objects.filter(action="recipient_notified", patient=patient_ayse)
    assert {entry.metadata["recipient"] for entry in logged} == {str(pk) for pk in scenario["told"]}
    assert {entry.metadata["request"] for entry in logged} == {str(request.pk)}
    assert all(entry.metadata["event"] == "rectification" for entry in logged)
    assert all(entry.metadata["messages"] >= 1 for entry in logged)
    e_mails = [
        message for message in mail.outbox if message.subject == "Size aktarılan kişisel verilerle ilgili bir bildirim"
    ]
    assert len(e_mails) == 3
    assert all("Ayşe" in message.body and "düzelt" in message.body for message in e_mails)
    for text in _texts(twilio):
        for health in scenario["health"]:
            assert health not in text


def test_other_answers_and_other_request_types_tell_nobody(scenario, patient_ayse):
    officer = UserFactory(role="admin", is_staff=True)
    rejected = privacy_request_create(subject=patient_ayse, type=DataSubjectRequest.Type.RECTIFICATION)
    access = privacy_request_create(subject=patient_ayse, type=DataSubjectRequest.Type.ACCESS)

    privacy_request_update(privacy_request=rejected, actor=officer, status=DataSubjectRequest.Status.REJECTED)
    privacy_request_update(privacy_request=access, actor=officer, status=DataSubjectRequest.Status.ANSWERED)

    assert _notices() == []
    assert not AuditEntry.objects.filter(action="recipient_notified").exists()


def test_an_erasure_tells_them_too_with_no_health_content_and_no_name_in_a_short_message(
    scenario, patient_ayse, doctor_x, django_capture_on_commit_callbacks, twilio
):
    doctor_x.user.phone, doctor_x.user.phone_verified = "+905551112233", True
    doctor_x.user.save(update_fields=["phone", "phone_verified"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        account_erase(user=patient_ayse, password=TEST_PASSWORD)

    notices = _notices()
    assert {notice.recipient_id for notice in notices} == scenario["told"]
    short = [n for n in notices if n.channel == Channel.SMS]
    assert [n.recipient_id for n in short] == [doctor_x.user_id]
    logged = AuditEntry.objects.filter(action="recipient_notified", patient=patient_ayse)
    assert {entry.metadata["recipient"] for entry in logged} == {str(pk) for pk in scenario["told"]}
    assert all(entry.metadata["event"] == "erasure" for entry in logged)
    e_mails = [message.body for message in mail.outbox if "sildirdi" in message.body]
    assert len(e_mails) == 3 and all("Ayşe Yılmaz" in body for body in e_mails)
    # (the doctor's other SMS is the cancellation of the booking ahead, part of the erasure's cascade)
    sms = [body for body in twilio.bodies() if "kişisel verileri silindi" in body]
    assert len(sms) == 1 and "Ayşe" not in sms[0] and "Yılmaz" not in sms[0]
    for text in _texts(twilio):
        for health in scenario["health"]:
            assert health not in text
