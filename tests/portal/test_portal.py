"""The portal is a second skin over the same services: the same scoping, the same audit."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from appointments.models import Appointment
from health_profiles.models import ShareGrant
from privacy.models import AuditEntry
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.factories import UserFactory
from tests.health_profiles.scenario import full_profile, share_with
from tests.second_factor import verified_client

pytestmark = pytest.mark.django_db


def portal_client(user) -> Client:
    return verified_client(user)


@pytest.fixture
def booked(patient_ayse, doctor_x, clinic_x):
    from appointments.demo import create_demo_schedule

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    return book(patient_ayse, doctor_x, at(working_day(), 10), visit_reason="Migren-PORTAL")


def test_a_doctor_sees_their_agenda_with_the_patient(doctor_x, booked):
    page = portal_client(doctor_x.user).get("/portal/", {"from": booked.start.date().isoformat()})

    assert page.status_code == 200
    assert "Ayşe" in page.content.decode()
    assert page["Cache-Control"] == "no-store"


def test_staff_of_another_clinic_see_neither_the_agenda_row_nor_the_appointment(staff_y, booked):
    client = portal_client(staff_y)

    agenda = client.get("/portal/", {"from": booked.start.date().isoformat()})
    detail = client.get(f"/portal/appointments/{booked.id}/")

    assert "Ayşe" not in agenda.content.decode()
    assert detail.status_code == 404


def test_the_receptionist_of_the_clinic_sees_the_visit_reason(receptionist_x, booked):
    page = portal_client(receptionist_x).get(f"/portal/appointments/{booked.id}/")

    assert page.status_code == 200
    assert "Migren-PORTAL" in page.content.decode()


def test_patients_are_not_let_into_the_portal(patient_ayse):
    assert portal_client(patient_ayse).get("/portal/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/portal/")

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/")


def test_a_clinic_cancellation_needs_a_reason_and_is_recorded(receptionist_x, booked):
    client = portal_client(receptionist_x)

    client.post(f"/portal/appointments/{booked.id}/cancel/", {"reason": ""})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED

    client.post(f"/portal/appointments/{booked.id}/cancel/", {"reason": "Hekim hasta"})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED_BY_CLINIC
    assert booked.history.filter(to_status="cancelled_by_clinic", actor=receptionist_x).exists()


def test_completing_before_the_start_is_refused(doctor_x, booked):
    portal_client(doctor_x.user).post(f"/portal/appointments/{booked.id}/complete/")

    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_a_doctor_with_a_share_reads_the_profile_and_the_read_is_audited(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])

    page = portal_client(doctor_x.user).get(f"/portal/patients/{patient_ayse.id}/health-profile/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Penisilin-alerjisi-ZQX" in body
    assert "Metformin-ZQX" not in body  # medications were not shared
    entry = AuditEntry.objects.get(action="health_profile_read", actor=doctor_x.user)
    assert entry.categories == ["allergy"]


def test_a_doctor_without_a_share_gets_404(patient_ayse, doctor_y):
    full_profile(patient_ayse)

    page = portal_client(doctor_y.user).get(f"/portal/patients/{patient_ayse.id}/health-profile/")

    assert page.status_code == 404
    assert not AuditEntry.objects.filter(action="health_profile_read").exists()


def test_an_expired_share_ends_portal_access(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"], expires_at=timezone.now() + timedelta(hours=1))
    client = portal_client(doctor_x.user)
    assert client.get(f"/portal/patients/{patient_ayse.id}/health-profile/").status_code == 200

    from freezegun import freeze_time

    # A fresh login: the first session has been idle longer than the portal allows by then.
    with freeze_time(timezone.now() + timedelta(hours=2)):
        again = portal_client(doctor_x.user)
        assert again.get(f"/portal/patients/{patient_ayse.id}/health-profile/").status_code == 404


def test_comments_and_names_are_escaped(doctor_x, clinic_x):
    from appointments.demo import create_demo_schedule

    create_demo_schedule(doctor_x, clinic_x)
    patient = UserFactory(first_name="<script>alert(1)</script>")
    grant_booking_consent(patient)
    appointment = book(patient, doctor_x, at(working_day(), 11), visit_reason="<b>bold</b>")

    body = portal_client(doctor_x.user).get(f"/portal/appointments/{appointment.id}/").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert "<b>bold</b>" not in body


def test_the_password_set_link_lets_a_new_staff_member_choose_a_password(client, clinic_admin_x):
    staff = UserFactory(role="clinic_staff", password="!")
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    token = default_token_generator.make_token(staff)

    form = client.get(f"/portal/password-set/{uid}/{token}/", follow=True)
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase-7", "new_password2": "a-brand-new-passphrase-7"},
    )

    staff.refresh_from_db()
    assert response.status_code == 302
    assert staff.check_password("a-brand-new-passphrase-7")


def test_the_portal_names_the_shared_categories_and_when_the_share_ends(patient_ayse, patient_mehmet, doctor_x):
    full_profile(patient_ayse)
    full_profile(patient_mehmet)
    share_with(patient_ayse, doctor_x, categories=["medication", "allergy"])
    chosen_end = timezone.now() + timedelta(days=30)
    share_with(patient_mehmet, doctor_x, categories=["condition"], expires_at=chosen_end)
    after_care = ShareGrant.objects.get(patient=patient_ayse).created_at + timedelta(days=180)
    client = portal_client(doctor_x.user)

    listed = client.get("/portal/shared-profiles/").content.decode()
    ayse = client.get(f"/portal/patients/{patient_ayse.id}/health-profile/").content.decode()
    mehmet = client.get(f"/portal/patients/{patient_mehmet.id}/health-profile/").content.decode()

    def shown(moment) -> str:  # in the clinic's time zone, never UTC
        return timezone.localtime(moment, ZoneInfo("Europe/Istanbul")).strftime("%d.%m.%Y %H:%M")

    assert "Alerji, İlaç" in listed and "Hastalık" in listed
    assert f"{shown(after_care)} (son randevudan 180 gün sonra)" in listed
    assert shown(chosen_end) in listed
    assert "Paylaşılan kategoriler: Alerji, İlaç." in ayse
    assert f"Paylaşım {shown(after_care)} tarihinde sona erer" in ayse and "180 gün sonra" in ayse
    assert "Paylaşılan kategoriler: Hastalık." in mehmet
    assert f"Paylaşım, hastanın seçtiği {shown(chosen_end)} tarihinde sona erer." in mehmet
