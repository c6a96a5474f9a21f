"""Confirm or release in the portal (docs/confirmation.md): each visit's confirmation state in the
agenda and on the visit's page, and the clinic's unclear SMS/WhatsApp replies for its staff only."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.confirmation import appointment_confirm, appointment_release, appointment_reply
from appointments.demo import create_demo_schedule
from appointments.models import Appointment
from privacy.models import AuditEntry
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.second_factor import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def asking_day(patient_ayse, patient_mehmet, doctor_x, clinic_x):
    """Klinik X asks for confirmation: Ayşe's visit awaits it, Mehmet's is confirmed, and one she
    booked before (later that day) was released at the deadline."""
    clinic_x.requires_confirmation = True
    clinic_x.save(update_fields=["requires_confirmation"])
    create_demo_schedule(doctor_x, clinic_x)
    for patient in (patient_ayse, patient_mehmet):
        grant_booking_consent(patient)
    day = working_day()
    released = book(patient_ayse, doctor_x, at(day, 15))
    assert appointment_release(appointment_id=released.id, now=released.confirmation_due + timedelta(minutes=1))
    released.refresh_from_db()
    awaiting = book(patient_ayse, doctor_x, at(day, 10))
    confirmed = appointment_confirm(appointment=book(patient_mehmet, doctor_x, at(day, 11)), actor=patient_mehmet)
    assert released.status == Appointment.Status.RELEASED and awaiting.confirmation_due is not None
    return {"day": day, "awaiting": awaiting, "confirmed": confirmed, "released": released}


def local(moment, clinic) -> str:
    return moment.astimezone(ZoneInfo(clinic.timezone)).strftime("%d.%m.%Y %H:%M")


@pytest.mark.parametrize(
    ("language", "awaiting", "confirmed", "released"),
    [
        ("en", "Awaiting confirmation until {}", "Confirmed {}", "Released: not confirmed in time"),
        ("tr", "{} saatine kadar onay bekleniyor", "Onaylandı: {}", "Serbest bırakıldı: zamanında onaylanmadı"),
    ],
)
def test_the_agenda_and_the_visit_page_show_each_confirmation_state_translated(
    doctor_x, clinic_x, asking_day, language, awaiting, confirmed, released
):
    client = verified_client(doctor_x.user, HTTP_ACCEPT_LANGUAGE=language)
    due = local(asking_day["awaiting"].confirmation_due, clinic_x)
    confirmed_at = local(asking_day["confirmed"].confirmed_at, clinic_x)

    agenda = client.get("/portal/", {"date": asking_day["day"].isoformat()}).content.decode()
    pages = {
        key: client.get(f"/portal/appointments/{asking_day[key].id}/").content.decode()
        for key in asking_day
        if key != "day"
    }

    assert awaiting.format(due) in agenda and confirmed.format(confirmed_at) in agenda and released in agenda
    assert awaiting.format(due) in pages["awaiting"] and "Confirmed" not in pages["awaiting"]
    assert confirmed.format(confirmed_at) in pages["confirmed"] and due not in pages["confirmed"]
    assert released in pages["released"] and due not in pages["released"]


def test_a_visit_at_a_clinic_that_asks_nothing_is_shown_as_not_asked(doctor_x, patient_ayse, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    visit = book(patient_ayse, doctor_x, at(working_day(), 10))

    page = verified_client(doctor_x.user, HTTP_ACCEPT_LANGUAGE="en").get(f"/portal/appointments/{visit.id}/")

    assert "Not asked" in page.content.decode() and "Awaiting confirmation" not in page.content.decode()


@pytest.fixture
def unclear(asking_day, patient_ayse):
    patient_ayse.phone_verified = True
    patient_ayse.save(update_fields=["phone_verified"])
    outcome = appointment_reply(phone=str(patient_ayse.phone), body="belki yarın gelirim", channel="whatsapp")
    assert outcome.result == "unclear" and outcome.appointment.id == asking_day["awaiting"].id
    return outcome


def test_clinic_staff_see_their_clinics_unclear_replies_linked_from_the_navigation(
    receptionist_x, clinic_x, asking_day, unclear
):
    client = verified_client(receptionist_x, HTTP_ACCEPT_LANGUAGE="en")
    audited = AuditEntry.objects.count()

    agenda = client.get("/portal/").content.decode()
    page = client.get("/portal/unclear-replies/")
    narrowed = client.get("/portal/unclear-replies/", {"clinic": str(clinic_x.id)})

    assert 'href="/portal/unclear-replies/"' in agenda
    body = page.content.decode()
    assert page.status_code == 200 and narrowed.status_code == 200
    assert "Ayşe Yılmaz" in body and "WhatsApp" in body and "Klinik X" in body
    assert f'href="/portal/appointments/{asking_day["awaiting"].id}/"' in body
    assert local(asking_day["awaiting"].start, clinic_x) in body
    assert "Awaiting confirmation until" in body
    assert "belki" not in body  # no text is kept, none shown
    assert "Ayşe Yılmaz" in narrowed.content.decode()
    assert AuditEntry.objects.count() == audited  # no visit reason shown: no sensitive read


def test_another_clinics_staff_doctors_and_patients_never_see_the_replies(
    staff_y, doctor_x, patient_ayse, clinic_x, unclear
):
    outsider = verified_client(staff_y, HTTP_ACCEPT_LANGUAGE="en")

    own = outsider.get("/portal/unclear-replies/")
    other = outsider.get("/portal/unclear-replies/", {"clinic": str(clinic_x.id)})
    unknown = outsider.get("/portal/unclear-replies/", {"clinic": "not-a-uuid"})
    doctor = verified_client(doctor_x.user).get("/portal/unclear-replies/")
    doctor_agenda = verified_client(doctor_x.user).get("/portal/").content.decode()

    assert own.status_code == 200 and "Ayşe" not in own.content.decode() and "No unclear reply." in own.content.decode()
    assert other.status_code == 404 and "Ayşe" not in other.content.decode()
    assert unknown.status_code == 404
    assert doctor.status_code == 404
    assert "/portal/unclear-replies/" not in doctor_agenda
    assert verified_client(patient_ayse).get("/portal/unclear-replies/").status_code == 403


def test_a_guardians_reply_names_the_guardian_and_the_dependant(receptionist_x, clinic_x, doctor_x):
    from accounts.dependants import dependant_add
    from privacy.models import Purpose
    from privacy.services import consent_grant, current_version
    from tests.factories import UserFactory

    clinic_x.requires_confirmation = True
    clinic_x.save(update_fields=["requires_confirmation"])
    create_demo_schedule(doctor_x, clinic_x)
    guardian = UserFactory(email="veli@example.test", first_name="Veli", last_name="Kaya", phone_verified=True)
    child = dependant_add(
        guardian=guardian, first_name="Can", last_name="Kaya", birth_date=date(2018, 5, 1), relationship="parent"
    ).dependant
    purpose = Purpose.APPOINTMENT_HEALTH_DATA
    consent_grant(subject=child, purpose=purpose, text_version=current_version(purpose), language="tr")
    book(child, doctor_x, at(working_day(), 10), actor=guardian)
    assert appointment_reply(phone=str(guardian.phone), body="?", channel="sms").result == "unclear"

    body = verified_client(receptionist_x, HTTP_ACCEPT_LANGUAGE="en").get("/portal/unclear-replies/").content.decode()

    assert "Veli Kaya" in body and "guardian of Can Kaya" in body and "SMS" in body
