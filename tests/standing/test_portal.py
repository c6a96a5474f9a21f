"""The portal's appeals page: clinic staff see pending appeals and decide them through the same
service as the API."""

import pytest

from privacy.models import AuditEntry
from standing.models import Appeal, ClinicStanding, Strike
from tests.conftest import client_for
from tests.second_factor import verified_client
from tests.standing.conftest import appeal, no_shows

pytestmark = pytest.mark.django_db

PAGE = "/portal/appeals/"


@pytest.fixture
def appealed(patient_ayse, doctor_x):
    no_shows(patient_ayse, doctor_x, 3)
    strike = Strike.objects.filter(patient=patient_ayse).first()
    return Appeal.objects.get(pk=appeal(client_for(patient_ayse), strike.id, reason="Ameliyat-QQV").json()["id"])


def test_the_receptionist_sees_the_pending_appeal_and_the_read_is_audited(appealed, receptionist_x):
    page = verified_client(receptionist_x).get(PAGE)

    assert page.status_code == 200
    assert "Ameliyat-QQV" in page.content.decode() and "Ayşe" in page.content.decode()
    assert AuditEntry.objects.filter(action="no_show_appeal_viewed", actor=receptionist_x).count() == 1


def test_accepting_in_the_portal_lifts_the_block(appealed, receptionist_x, patient_ayse):
    client = verified_client(receptionist_x)

    response = client.post(f"{PAGE}{appealed.id}/accept/")

    assert response.status_code == 302 and response["Location"] == PAGE
    assert Appeal.objects.get(pk=appealed.pk).status == "accepted"
    assert ClinicStanding.objects.get(patient=patient_ayse).blocked_until is None
    page = client.get(PAGE).content.decode()
    assert "Ameliyat-QQV" not in page


def test_a_decided_appeal_is_reported_and_not_decided_again(appealed, receptionist_x):
    client = verified_client(receptionist_x)
    client.post(f"{PAGE}{appealed.id}/refuse/")

    again = client.post(f"{PAGE}{appealed.id}/accept/", follow=True)

    assert Appeal.objects.get(pk=appealed.pk).status == "refused"
    assert "zaten karara bağlandı" in again.content.decode()  # the portal speaks Turkish by default


def test_staff_of_another_clinic_and_doctors_get_404(appealed, staff_y, doctor_x):
    assert verified_client(staff_y).post(f"{PAGE}{appealed.id}/accept/").status_code == 404
    assert "Ameliyat-QQV" not in verified_client(staff_y).get(PAGE).content.decode()
    assert verified_client(doctor_x.user).get(PAGE).status_code == 404
    assert Appeal.objects.get(pk=appealed.pk).status == "pending"
