"""Family members: a guardian acts for a dependant (API.md /me/dependants/, DESIGN.md guardian row)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import Guardianship, HandoverInvitation, User
from accounts.permissions import can_act_for
from accounts.privacy_hooks import spent_handover_invitations
from appointments.demo import create_demo_schedule
from appointments.models import Appointment
from notifications.messages import handover_token, render
from notifications.models import Kind, Notification
from privacy.models import AuditEntry, ConsentEvent, Purpose
from privacy.services import current_version
from tests.appointments.conftest import at, working_day
from tests.factories import TEST_PASSWORD

DEPENDANTS = "/api/v1/me/dependants/"
APPOINTMENTS = "/api/v1/appointments/"
CONSENTS = "/api/v1/consents/"
ENTRIES = "/api/v1/health-profile/entries/"
CLAIM = "/api/v1/auth/claim/"


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


def add_child(client, **extra) -> dict:
    body = {"first_name": "Can", "last_name": "Yılmaz", "birth_date": str(years_ago(7)), "relationship": "parent"}
    response = client.post(DEPENDANTS, {**body, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def grant_for(client, patient_id, purpose=Purpose.APPOINTMENT_HEALTH_DATA) -> dict:
    response = client.post(
        CONSENTS, {"purpose": purpose, "text_version": current_version(purpose), "patient": patient_id}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def book_for(client, doctor, patient_id, hour=10) -> dict:
    body = {"doctor": str(doctor.id), "start": at(working_day(), hour).isoformat(), "visit_reason": "Ateş-QZX"}
    response = client.post(APPOINTMENTS, {**body, "patient": patient_id}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.django_db
def test_it_adds_a_child_with_a_patient_account_of_its_own_and_no_login(as_user, patient_ayse):
    body = add_child(as_user(patient_ayse), national_id="10000000146")

    child = User.objects.get(pk=body["id"])
    assert child.is_patient and not child.has_usable_password()
    assert child.email.endswith("@dependants.invalid") and not child.phone
    assert body["relationship"] == "parent" and body["national_id"] == "*******0146"
    assert Guardianship.objects.get(dependant=child).guardian == patient_ayse
    listed = as_user(patient_ayse).get(DEPENDANTS).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert as_user(patient_ayse).get(DEPENDANTS).json()["results"][0]["first_name"] == "Can"


@pytest.mark.django_db
def test_an_adult_in_care_needs_a_documented_authority(as_user, patient_ayse):
    client = as_user(patient_ayse)
    adult = {
        "first_name": "Fatma",
        "last_name": "Yılmaz",
        "birth_date": str(years_ago(80)),
        "relationship": "caregiver",
    }

    refused = client.post(DEPENDANTS, adult, format="json")
    accepted = client.post(
        DEPENDANTS,
        {**adult, "authority_type": "court_order", "authority_reference": "İstanbul 3. Sulh Hukuk 2025/117"},
        format="json",
    )

    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"authority_type", "authority_reference"}
    assert accepted.status_code == 201
    assert Guardianship.objects.get(pk=accepted.json()["guardianship"]).authority_reference.startswith("İstanbul")


@pytest.mark.django_db
def test_doctors_and_staff_cannot_add_dependants(as_user, doctor_x):
    response = as_user(doctor_x.user).post(
        DEPENDANTS, {"first_name": "A", "last_name": "B", "birth_date": "2020-01-01", "relationship": "parent"}
    )

    assert response.status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_guardian_books_for_a_child_and_the_consent_event_names_both(as_user, patient_ayse, doctor_x, clinic_x):
    # given a mother with a child, and a doctor with hours
    create_demo_schedule(doctor_x, clinic_x)
    ayse = as_user(patient_ayse)
    child_id = add_child(ayse)["id"]

    # when she gives the booking consent and books for the child
    consent = grant_for(ayse, child_id)
    appointment = book_for(ayse, doctor_x, child_id)

    # then the consent is the child's, given by the mother, and both are named in the audit trail
    event = ConsentEvent.objects.get(pk=consent["id"])
    assert (str(event.subject_id), event.actor_id) == (child_id, patient_ayse.id)
    assert consent["actor"] == str(patient_ayse.id)
    audit = AuditEntry.objects.get(action=f"consent_granted:{Purpose.APPOINTMENT_HEALTH_DATA}")
    assert (audit.actor_id, str(audit.patient_id)) == (patient_ayse.id, child_id)
    # the visit is the child's; the history and the audit say the mother booked it
    booked = Appointment.objects.get(pk=appointment["id"])
    assert str(booked.patient_id) == child_id
    assert booked.history.get().actor == patient_ayse
    assert AuditEntry.objects.get(action="appointment_booked").actor == patient_ayse
    # the mother has no consent of her own, and hers is not needed
    assert not ConsentEvent.objects.filter(subject=patient_ayse).exists()
    # messages about the child's visit go to the mother, without the visit reason
    told = Notification.objects.filter(appointment_id=booked.id)
    assert {n.recipient_id for n in told} == {patient_ayse.id}
    assert "Ateş-QZX" not in str([n.context for n in told])
    # the doctor sees the child as the patient and the mother as the contact
    seen = as_user(doctor_x.user).get(f"{APPOINTMENTS}{booked.id}/").json()
    assert seen["patient"] == child_id and seen["patient_name"] == "Can Yılmaz"
    assert seen["contact"] == {
        "name": patient_ayse.full_name,
        "phone": str(patient_ayse.phone),
        "email": "ayse@example.test",
    }
    # the mother lists and cancels it
    assert [row["id"] for row in ayse.get(APPOINTMENTS).json()["results"]] == [str(booked.id)]
    cancelled = ayse.post(f"{APPOINTMENTS}{booked.id}/cancel/", {"reason": ""}, format="json")
    assert cancelled.json()["status"] == "cancelled_by_patient"
    # and withdraws the child's consent: the withdrawal names her too
    withdrawn = ayse.post(f"{CONSENTS}{consent['id']}/withdraw/")
    assert withdrawn.status_code == 200
    withdrawal = ConsentEvent.objects.get(grant_id=consent["id"])
    assert (str(withdrawal.subject_id), withdrawal.actor_id) == (child_id, patient_ayse.id)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_guardian_never_reaches_another_familys_dependant(as_user, patient_ayse, patient_mehmet, doctor_x, clinic_x):
    # given Ayşe's child with a consent, a profile entry and a booking
    create_demo_schedule(doctor_x, clinic_x)
    ayse, mehmet = as_user(patient_ayse), as_user(patient_mehmet)
    child_id = add_child(ayse)["id"]
    consent = grant_for(ayse, child_id)
    grant_for(ayse, child_id, Purpose.HEALTH_PROFILE_STORAGE)
    entry = ayse.post(
        ENTRIES,
        {"category": "allergy", "name": "Penisilin", "reaction": "Kurdeşen", "severity": "mild", "patient": child_id},
        format="json",
    )
    assert entry.status_code == 201, entry.json()
    appointment = book_for(ayse, doctor_x, child_id)
    add_child(mehmet, first_name="Ali")  # Mehmet is a guardian too, of his own child

    # when Mehmet tries every call with her child's id, then each is not found
    start = at(working_day(), 11).isoformat()
    attempts = [
        mehmet.get(CONSENTS, {"patient": child_id}),
        mehmet.post(CONSENTS, {"purpose": "health_profile_storage", "text_version": 1, "patient": child_id}),
        mehmet.post(f"{CONSENTS}{consent['id']}/withdraw/"),
        mehmet.post(
            APPOINTMENTS, {"doctor": str(doctor_x.id), "start": start, "visit_reason": "x", "patient": child_id}
        ),
        mehmet.get(f"{APPOINTMENTS}{appointment['id']}/"),
        mehmet.post(f"{APPOINTMENTS}{appointment['id']}/cancel/", {"reason": ""}),
        mehmet.get("/api/v1/health-profile/", {"patient": child_id}),
        mehmet.get(ENTRIES, {"patient": child_id}),
        mehmet.post(ENTRIES, {"category": "allergy", "name": "x", "patient": child_id}),
        mehmet.get(f"{ENTRIES}{entry.json()['id']}/"),
        mehmet.post(f"{DEPENDANTS}{child_id}/handover/", {"email": "x@example.test", "phone": "+905321112233"}),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert [row["id"] for row in mehmet.get(APPOINTMENTS).json()["results"]] == []
    assert not can_act_for(patient_mehmet, child_id) and can_act_for(patient_ayse, child_id)
    # and the mother reads the child's profile, which is recorded as a read by her
    profile = ayse.get("/api/v1/health-profile/", {"patient": child_id}).json()
    assert [row["name"] for row in profile["allergies"]] == ["Penisilin"]
    assert AuditEntry.objects.filter(action="health_profile_viewed_by_guardian", actor=patient_ayse).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_handover_at_18_ends_the_guardians_access_and_keeps_the_data(as_user, patient_ayse, doctor_x, clinic_x):
    # given a 17-year-old with a consent and a visit booked by the mother
    create_demo_schedule(doctor_x, clinic_x)
    ayse = as_user(patient_ayse)
    child_id = add_child(ayse, birth_date=str(years_ago(18, days=-30)))["id"]
    consent = grant_for(ayse, child_id)
    appointment = book_for(ayse, doctor_x, child_id)
    handover = f"{DEPENDANTS}{child_id}/handover/"
    contact = {"email": "can@example.test", "phone": "+905321112233"}

    # a 17-year-old cannot be handed over yet
    too_early = ayse.post(handover, contact, format="json")
    assert too_early.status_code == 409 and too_early.json()["code"] == "invalid_transition"

    with freeze_time(timezone.now() + timedelta(days=40)):
        # when, at 18, the mother invites the child to take over
        ayse = as_user(patient_ayse)
        invited = ayse.post(handover, contact, format="json")
        assert invited.status_code == 202, invited.json()
        invitation = HandoverInvitation.objects.get(dependant_id=child_id)
        mail = Notification.objects.get(kind=Kind.HANDOVER_INVITATION)
        assert (str(mail.recipient_id), mail.channel) == (child_id, "email")
        child = User.objects.get(pk=child_id)
        _subject, body = render(kind=mail.kind, language="tr", channel="email", recipient=child, context=mail.context)
        token = handover_token(str(invitation.id))
        assert token in body and token not in str(mail.context)
        # a wrong token claims nothing; the right one claims the account
        assert (
            as_user(None).post(CLAIM, {"token": token[:-2] + "00", "password": "Kendi-Parolam-2026"}).status_code == 400
        )
        claimed = as_user(None).post(CLAIM, {"token": token, "password": "Kendi-Parolam-2026"})
        assert claimed.status_code == 204
        # then the mother's access is gone, everywhere
        assert ayse.get(f"{APPOINTMENTS}{appointment['id']}/").status_code == 404
        assert ayse.get(CONSENTS, {"patient": child_id}).status_code == 404
        assert ayse.get(DEPENDANTS).json()["results"] == []
        assert ayse.get(APPOINTMENTS).json()["results"] == []
        # the child logs in with their own password and keeps the visit and the consent
        child.refresh_from_db()
        assert child.check_password("Kendi-Parolam-2026") and child.email_verified
        own = as_user(child)
        assert [row["id"] for row in own.get(APPOINTMENTS).json()["results"]] == [appointment["id"]]
        kept = own.get(CONSENTS).json()["results"]
        assert [(row["id"], row["actor"], row["withdrawn_at"]) for row in kept] == [
            (consent["id"], str(patient_ayse.id), None)
        ]
        # both are told; a used token does not work twice
        told = Notification.objects.filter(kind=Kind.HANDOVER_COMPLETED).values_list("recipient_id", flat=True)
        assert set(told) == {patient_ayse.id, child.id}
        assert as_user(None).post(CLAIM, {"token": token, "password": "Baska-Parola-2026"}).status_code == 400
        guardianship = Guardianship.objects.get(dependant=child)
        assert guardianship.end_reason == Guardianship.EndReason.HANDED_OVER


@pytest.mark.django_db
def test_the_export_names_dependants_and_guardians_and_spent_invitations_go(as_user, patient_ayse):
    child_id = add_child(as_user(patient_ayse))["id"]
    child = User.objects.get(pk=child_id)
    guardianship = Guardianship.objects.get(dependant=child)
    HandoverInvitation.objects.create(
        guardianship=guardianship, dependant=child, expires_at=timezone.now() - timedelta(days=31)
    )

    consent = grant_for(as_user(patient_ayse), child_id)

    mine = as_user(patient_ayse).get("/api/v1/health-profile/export/", {"format": "json"}).json()
    theirs = as_user(child).get("/api/v1/health-profile/export/", {"format": "json"}).json()

    assert [row["person"] for row in mine["dependants"]] == [child_id]
    assert [row["person"] for row in theirs["guardians"]] == [str(patient_ayse.id)]
    assert [(row["id"], row["actor"]) for row in theirs["consents"]] == [(consent["id"], str(patient_ayse.id))]
    assert mine["consents"] == []
    assert spent_handover_invitations(timezone.now(), dry_run=True) == 1
    assert spent_handover_invitations(timezone.now()) == 1
    assert not HandoverInvitation.objects.exists()


@pytest.mark.django_db
def test_an_erased_guardian_acts_for_nobody(as_user, patient_ayse):
    child_id = add_child(as_user(patient_ayse))["id"]

    response = as_user(patient_ayse).post("/api/v1/me/erase/", {"password": TEST_PASSWORD}, format="json")

    assert response.status_code == 202
    guardianship = Guardianship.objects.get(dependant_id=child_id)
    assert guardianship.end_reason == Guardianship.EndReason.ACCOUNT_ERASED
    assert not can_act_for(User.objects.get(pk=patient_ayse.pk), child_id)


@pytest.mark.django_db
def test_a_dependant_in_care_takes_over_only_by_the_invitation_not_by_a_password_reset(as_user, patient_ayse):
    from accounts.credentials import password_reset_request

    adult = {
        "first_name": "Fatma",
        "last_name": "Yılmaz",
        "birth_date": str(years_ago(80)),
        "relationship": "caregiver",
    }
    body = add_child(as_user(patient_ayse), **adult, authority_type="power_of_attorney", authority_reference="V-2024-9")
    invited = as_user(patient_ayse).post(
        f"{DEPENDANTS}{body['id']}/handover/", {"email": "fatma@example.test", "phone": "+905321112244"}, format="json"
    )

    assert invited.status_code == 202
    assert User.objects.get(pk=body["id"]).email == "fatma@example.test"
    assert password_reset_request(email="fatma@example.test") is None
    assert password_reset_request(email="ayse@example.test") == str(patient_ayse.pk)


@pytest.mark.parametrize("language", ["tr", "en"])
def test_the_handover_messages_render_without_health_data(language):
    invitation_id = "8a3c6a1e-5f7b-4c51-9a51-3f1f1c2a7b10"
    recipient = User(first_name="Can")

    _subject, invitation = render(
        kind=Kind.HANDOVER_INVITATION,
        language=language,
        channel="email",
        recipient=recipient,
        context={"invitation_id": invitation_id},
    )
    _subject, done = render(
        kind=Kind.HANDOVER_COMPLETED, language=language, channel="sms", recipient=recipient, context={}
    )

    assert handover_token(invitation_id) in invitation and "Can" in invitation
    assert "Can" not in done and "Medplatform" in done
