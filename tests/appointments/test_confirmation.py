"""Confirm or release, the day before (docs/confirmation.md): the deadline fixed at booking, the
confirmation in the app and by a reply to the SMS or WhatsApp message, the release at the
deadline (never an exempt patient's visit), and confirm against release at the same moment."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from accounts.exemptions import exemption_mark
from accounts.models import ClinicExemption
from appointments.confirmation import appointments_release_due
from appointments.models import Appointment, AppointmentStatusChange, UnclearReply, VisitType
from appointments.reminders import reminders_due
from notifications.messages import render
from notifications.models import Kind, Notification
from tests.appointments.conftest import ISTANBUL, at, book, grant_booking_consent, working_day
from tests.concurrency import run_at_once
from tests.factories import UserFactory

INBOUND = "/api/v1/notifications/twilio/inbound/"
PUBLIC_BASE_URL = "https://medplatform.test"
AUTH_TOKEN = "test-only-twilio-auth-token"


@pytest.fixture
def asking_clinic(clinic_x):
    clinic_x.requires_confirmation = True
    clinic_x.save(update_fields=["requires_confirmation"])
    return clinic_x


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL


def verified(user):
    user.phone_verified = True
    user.save(update_fields=["phone_verified"])
    return user


def inbound(api, sender_phone: str, body: str, *, signed: bool = True, whatsapp: bool = False):
    params = {
        "AccountSid": "ACtest",
        "MessageSid": "SM" + "0" * 32,
        "From": f"whatsapp:{sender_phone}" if whatsapp else sender_phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    headers = {}
    if signed:
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(AUTH_TOKEN).compute_signature(
            PUBLIC_BASE_URL + INBOUND, params
        )
    return api.post(INBOUND, data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def deadline(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=1), time(20), tzinfo=ISTANBUL)


# --- the deadline, fixed at booking ---


@pytest.mark.django_db
def test_an_in_person_booking_shows_the_deadline_at_20_the_day_before(asking_clinic, schedule_x, ayse, as_user):
    day = working_day()
    body = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}

    response = as_user(ayse).post("/api/v1/appointments/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["confirmation_due"] == deadline(day).isoformat()
    assert response.json()["confirmed_at"] is None


@pytest.mark.django_db
def test_the_clinic_chooses_the_hour(asking_clinic, schedule_x, ayse):
    asking_clinic.confirmation_hour = 18
    asking_clinic.save(update_fields=["confirmation_hour"])
    day = working_day()

    appointment = book(ayse, schedule_x, at(day, 10))

    assert appointment.confirmation_due == deadline(day).replace(hour=18)


@pytest.mark.django_db
def test_no_deadline_without_the_clinic_rule_or_for_an_online_visit(clinic_x, schedule_x, ayse, mehmet):
    day = working_day()
    not_asked = book(ayse, schedule_x, at(day, 10))
    clinic_x.requires_confirmation = True
    clinic_x.save(update_fields=["requires_confirmation"])

    online = book(mehmet, schedule_x, at(day, 11), visit_type=VisitType.ONLINE)

    assert not_asked.confirmation_due is None
    assert online.confirmation_due is None


@pytest.mark.django_db
def test_no_deadline_when_booked_after_the_request_would_have_gone_out(asking_clinic, schedule_x, ayse, settings):
    settings.CONFIRMATION_REQUEST_HOURS = 24 * 30  # the request goes out a month before the deadline

    appointment = book(ayse, schedule_x, at(working_day(), 10))

    assert appointment.confirmation_due is None  # the booking is the patient's word


@pytest.mark.django_db
def test_an_exempt_patient_gets_no_deadline(asking_clinic, schedule_x, ayse):
    ayse.birth_date = working_day().replace(year=working_day().year - 70)
    ayse.save(update_fields=["birth_date"])

    appointment = book(ayse, schedule_x, at(working_day(), 10))

    assert appointment.confirmation_due is None


# --- confirming in the app ---


@pytest.fixture
def awaiting(asking_clinic, schedule_x, ayse):
    """Ayşe's in-person visit a week ahead, waiting for her confirmation."""
    appointment = book(ayse, schedule_x, at(working_day(), 10))
    assert appointment.confirmation_due is not None
    return appointment


@pytest.mark.django_db
def test_the_patient_confirms_in_the_app_once(awaiting, ayse, as_user):
    url = f"/api/v1/appointments/{awaiting.id}/confirm/"

    first = as_user(ayse).post(url)
    again = as_user(ayse).post(url)

    assert first.status_code == 200, first.json()
    assert first.json()["confirmed_at"] is not None and first.json()["status"] == "booked"
    assert first.json()["visit_reason"] == "baş ağrısı"  # the whole appointment, as every action answers
    assert again.status_code == 200 and again.json()["confirmed_at"] == first.json()["confirmed_at"]


@pytest.mark.django_db
def test_only_the_patient_or_guardian_confirms(awaiting, schedule_x, receptionist_x, patient_mehmet, as_user):
    url = f"/api/v1/appointments/{awaiting.id}/confirm/"

    by_doctor = as_user(schedule_x.user).post(url)
    by_staff = as_user(receptionist_x).post(url)
    by_stranger = as_user(patient_mehmet).post(url)

    assert (by_doctor.status_code, by_doctor.json()["code"]) == (403, "permission_denied")
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "permission_denied")
    assert (by_stranger.status_code, by_stranger.json()["code"]) == (404, "not_found")
    awaiting.refresh_from_db()
    assert awaiting.confirmed_at is None


@pytest.mark.django_db
def test_a_released_visit_cannot_be_confirmed(awaiting, ayse, as_user):
    appointments_release_due(now=awaiting.confirmation_due)

    response = as_user(ayse).post(f"/api/v1/appointments/{awaiting.id}/confirm/")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


# --- the release at the deadline ---


@pytest.mark.django_db
def test_an_unconfirmed_visit_is_released_at_the_deadline_and_its_slot_is_free(awaiting, schedule_x, mehmet, as_user):
    due = awaiting.confirmation_due

    before = appointments_release_due(now=due - timedelta(seconds=1))
    released = appointments_release_due(now=due)
    again = appointments_release_due(now=due + timedelta(minutes=1))

    assert (before, released, again) == (0, 1, 0)
    awaiting.refresh_from_db()
    assert awaiting.status == Appointment.Status.RELEASED
    [change] = AppointmentStatusChange.objects.filter(appointment=awaiting, to_status="released")
    assert (change.from_status, change.actor_id, change.actor_role) == ("booked", None, "system")
    assert Notification.objects.filter(kind=Kind.APPOINTMENT_RELEASED, recipient=awaiting.patient).exists()
    # the slot is bookable again
    body = {"doctor": str(schedule_x.id), "start": awaiting.start.isoformat(), "visit_reason": "kontrol"}
    assert as_user(mehmet).post("/api/v1/appointments/", body, format="json").status_code == 201


@pytest.mark.django_db
def test_a_confirmed_visit_is_never_released(awaiting, ayse, as_user):
    as_user(ayse).post(f"/api/v1/appointments/{awaiting.id}/confirm/")

    assert appointments_release_due(now=awaiting.confirmation_due + timedelta(hours=1)) == 0
    awaiting.refresh_from_db()
    assert awaiting.status == Appointment.Status.BOOKED


@pytest.mark.django_db
def test_a_visit_of_a_patient_the_clinic_marked_exempt_after_booking_is_never_released(
    awaiting, ayse, asking_clinic, receptionist_x
):
    exemption_mark(
        actor=receptionist_x, clinic=asking_clinic, patient_id=ayse.id, reason=ClinicExemption.Reason.ONGOING_TREATMENT
    )

    assert appointments_release_due(now=awaiting.confirmation_due + timedelta(minutes=1)) == 0
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.confirmation_due) == (Appointment.Status.BOOKED, None)


@pytest.mark.django_db
def test_a_visit_of_a_patient_aged_65_on_the_day_is_never_released(awaiting, ayse):
    visit_day = awaiting.start.astimezone(ISTANBUL).date()
    ayse.birth_date = visit_day.replace(year=visit_day.year - 65)
    ayse.save(update_fields=["birth_date"])

    assert appointments_release_due(now=awaiting.confirmation_due + timedelta(minutes=1)) == 0
    awaiting.refresh_from_db()
    assert awaiting.status == Appointment.Status.BOOKED


@pytest.mark.django_db
def test_a_reschedule_takes_a_new_deadline_and_a_new_confirmation(awaiting, ayse, as_user):
    as_user(ayse).post(f"/api/v1/appointments/{awaiting.id}/confirm/")
    new_day = working_day(days_ahead=14)

    response = as_user(ayse).post(
        f"/api/v1/appointments/{awaiting.id}/reschedule/", {"start": at(new_day, 11).isoformat()}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["confirmed_at"] is None
    assert response.json()["confirmation_due"] == deadline(new_day).isoformat()


# --- the reminder asks ---


@pytest.mark.django_db
def test_the_confirmation_request_goes_out_24_hours_before_the_deadline_and_asks_to_reply(awaiting, ayse):
    request_at = awaiting.confirmation_due - timedelta(hours=24)

    early = reminders_due(now=request_at - timedelta(minutes=1), leads=[])
    [item] = reminders_due(now=request_at, leads=[])
    subject, body = render(
        kind=Kind.APPOINTMENT_REMINDER,
        language="tr",
        channel="sms",
        recipient=ayse,
        context={
            "clinic_name": item.clinic_name,
            "start": item.start.isoformat(),
            "timezone": item.timezone,
            "confirm_by": item.confirm_by.isoformat(),
        },
    )

    assert early == []
    assert item.confirm_by == awaiting.confirmation_due
    assert "E" in body and "H" in body and "onaylayın" in body
    assert "baş ağrısı" not in body


# --- replies to the SMS or WhatsApp message ---


@pytest.fixture
def two_awaiting(awaiting, schedule_x, ayse, mehmet):
    """Ayşe: a visit next week and a later one; Mehmet: one at the same day; all awaiting."""
    later = book(ayse, schedule_x, at(working_day(days_ahead=14), 10))
    his = book(mehmet, schedule_x, at(awaiting.start.astimezone(ISTANBUL).date(), 9))
    verified(ayse)
    verified(mehmet)
    return awaiting, later, his


@pytest.mark.django_db
def test_a_signed_evet_confirms_exactly_the_senders_next_visit(twilio_settings, two_awaiting, ayse, api):
    next_visit, later, his = two_awaiting

    response = inbound(api, str(ayse.phone), "EVET")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "<Response><Message>" in response.content.decode()
    for appointment in (next_visit, later, his):
        appointment.refresh_from_db()
    assert next_visit.confirmed_at is not None
    assert later.confirmed_at is None and his.confirmed_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("reply", ["E", "evet", " Evet. ", "EVET"])
def test_every_form_of_yes_confirms(twilio_settings, awaiting, ayse, api, reply):
    verified(ayse)

    inbound(api, str(ayse.phone), reply, whatsapp=True)

    awaiting.refresh_from_db()
    assert awaiting.confirmed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("reply", ["H", "hayır", "HAYIR", "İPTAL", "iptal"])
def test_every_form_of_no_cancels_the_next_visit(twilio_settings, awaiting, ayse, api, reply):
    verified(ayse)

    response = inbound(api, str(ayse.phone), reply)

    assert response.status_code == 200
    awaiting.refresh_from_db()
    assert awaiting.status == Appointment.Status.CANCELLED_BY_PATIENT


@pytest.mark.django_db
@pytest.mark.parametrize("signed", [False, "forged"])
def test_an_unsigned_or_forged_reply_is_refused_with_403_and_changes_nothing(
    twilio_settings, awaiting, ayse, api, signed
):
    verified(ayse)
    headers = {"HTTP_X_TWILIO_SIGNATURE": "forged"} if signed else {}
    params = {"From": str(ayse.phone), "Body": "EVET"}

    response = api.post(INBOUND, data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    awaiting.refresh_from_db()
    assert awaiting.confirmed_at is None


@pytest.mark.django_db
def test_an_unclear_reply_changes_nothing_is_answered_with_help_and_flagged_to_the_clinic(
    twilio_settings, awaiting, ayse, asking_clinic, receptionist_x, staff_y, api, as_user
):
    verified(ayse)

    response = inbound(api, str(ayse.phone), "belki yarın gelirim")

    assert response.status_code == 200
    assert "E" in response.content.decode() and "H" in response.content.decode()
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.confirmed_at) == ("booked", None)
    [flag] = UnclearReply.objects.all()
    assert (flag.appointment_id, flag.clinic_id, flag.sender_id, flag.channel) == (
        awaiting.id,
        asking_clinic.id,
        ayse.id,
        "sms",
    )
    url = f"/api/v1/clinics/{asking_clinic.id}/unclear-replies/"
    listed = as_user(receptionist_x).get(url)
    assert [row["appointment"] for row in listed.json()["results"]] == [str(awaiting.id)]
    assert as_user(staff_y).get(url).status_code == 404
    assert as_user(ayse).get(url).status_code == 404


@pytest.mark.django_db
def test_a_reply_from_an_unverified_or_unknown_number_changes_nothing(twilio_settings, awaiting, ayse, api):
    unverified = inbound(api, str(ayse.phone), "EVET")  # Ayşe's phone is not verified
    unknown = inbound(api, "+905559999999", "EVET")

    assert unverified.status_code == unknown.status_code == 200
    awaiting.refresh_from_db()
    assert awaiting.confirmed_at is None
    assert not UnclearReply.objects.exists()


@pytest.mark.django_db
def test_a_guardian_confirms_their_dependants_visit_by_reply(
    twilio_settings, asking_clinic, schedule_x, patient_ayse, api
):
    from accounts.dependants import dependant_add
    from privacy.models import Purpose
    from privacy.services import consent_grant, current_version

    verified(patient_ayse)
    child = dependant_add(
        guardian=patient_ayse, first_name="Can", last_name="Yılmaz", birth_date=date(2018, 5, 1), relationship="parent"
    ).dependant
    purpose = Purpose.APPOINTMENT_HEALTH_DATA
    consent_grant(subject=child, purpose=purpose, text_version=current_version(purpose), language="tr")
    visit = book(child, schedule_x, at(working_day(), 10), actor=patient_ayse)

    inbound(api, str(patient_ayse.phone), "E")

    visit.refresh_from_db()
    assert visit.confirmed_at is not None


# --- confirm against release, on PostgreSQL ---


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_confirmation_and_the_release_at_the_same_moment_exactly_one_wins(asking_clinic, schedule_x, as_user):
    from appointments.confirmation import appointment_confirm

    day = working_day()
    # ten slots of one day, one round each: 09:00-12:00 and 14:00-15:00
    starts = [at(day, 9) + timedelta(minutes=30 * i) for i in range(7)]
    starts += [at(day, 14) + timedelta(minutes=30 * i) for i in range(3)]
    outcomes = []
    for start in starts:
        patient = UserFactory()
        grant_booking_consent(patient)
        appointment = book(patient, schedule_x, start)
        due = appointment.confirmation_due

        confirmed, released = run_at_once(
            [
                lambda a=appointment, p=patient: appointment_confirm(appointment=a, actor=p),
                lambda due=due: appointments_release_due(now=due),
            ]
        )

        appointment.refresh_from_db()
        history = list(AppointmentStatusChange.objects.filter(appointment=appointment, to_status="released"))
        if released == ("ok", 1):
            assert confirmed[0] == "error" and type(confirmed[1]).__name__ == "InvalidTransition", confirmed
            assert (appointment.status, appointment.confirmed_at, len(history)) == ("released", None, 1)
            outcomes.append("released")
        else:
            assert released == ("ok", 0) and confirmed[0] == "ok", (confirmed, released)
            assert appointment.status == "booked" and appointment.confirmed_at is not None and history == []
            outcomes.append("confirmed")
    print(
        f"confirm vs release, 10 rounds: {outcomes.count('confirmed')} confirmed, {outcomes.count('released')} released"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_release_runs_at_once_release_a_visit_once(asking_clinic, schedule_x):
    patient = UserFactory()
    grant_booking_consent(patient)
    appointment = book(patient, schedule_x, at(working_day(), 10))

    results = run_at_once([lambda: appointments_release_due(now=appointment.confirmation_due)] * 2)

    assert sorted(results) == [("ok", 0), ("ok", 1)]
    assert AppointmentStatusChange.objects.filter(appointment=appointment, to_status="released").count() == 1
    assert Notification.objects.filter(kind=Kind.APPOINTMENT_RELEASED, recipient=patient).count() >= 1
    assert len({n.event_key for n in Notification.objects.filter(kind=Kind.APPOINTMENT_RELEASED)}) == 1


@pytest.mark.django_db
def test_a_released_visit_is_offered_to_the_first_on_the_waitlist(awaiting, schedule_x, mehmet, patient_ayse, as_user):
    # given Mehmet waiting for doctor_x on the day of Ayşe's unconfirmed visit
    visit_day = awaiting.start.astimezone(ISTANBUL).date().isoformat()
    joined = as_user(mehmet).post(
        "/api/v1/waitlist/", {"doctor": str(schedule_x.id), "from": visit_day, "to": visit_day}, format="json"
    )
    assert joined.status_code == 201, joined.json()

    # when the deadline passes unconfirmed
    assert appointments_release_due(now=awaiting.confirmation_due) == 1

    # then the freed slot is held for him
    entry = as_user(mehmet).get(f"/api/v1/waitlist/{joined.json()['id']}/").json()
    assert entry["status"] == "offered", entry
    assert entry["offer"]["start"] == awaiting.start.astimezone(ISTANBUL).isoformat()
