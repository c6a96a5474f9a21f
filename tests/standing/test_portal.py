"""The portal's appeals page: clinic staff see pending appeals and decide them through the same
service as the API."""

import pytest

from privacy.models import AuditEntry
from standing.models import Appeal, ClinicStanding, NoShowPolicy, Strike
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


def test_the_clinic_admin_sets_the_clinics_policy_and_it_applies_to_the_next_strike(
    clinic_admin_x, clinic_x, patient_ayse, doctor_x
):
    client = verified_client(clinic_admin_x)
    assert "the platform" in client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    saved = client.post(f"{PAGE}policy/{clinic_x.id}/", {"strikes_to_block": "1", "block_days": "7"})

    assert saved.status_code == 302
    policy = NoShowPolicy.objects.get(clinic=clinic_x)
    assert (policy.strikes_to_block, policy.block_days) == (1, 7)
    entry = AuditEntry.objects.get(action="no_show_policy_changed")
    assert entry.actor == clinic_admin_x and entry.metadata["before"]["strikes_to_block"] == 3
    no_shows(patient_ayse, doctor_x, 1)
    assert ClinicStanding.objects.get(patient=patient_ayse).blocked_until is not None


def test_a_receptionist_or_another_clinics_admin_cannot_set_the_policy_and_bad_numbers_are_refused(
    receptionist_x, staff_y, clinic_admin_x, clinic_x
):
    url = f"{PAGE}policy/{clinic_x.id}/"

    refused = verified_client(receptionist_x).post(
        url, {"strikes_to_block": "1", "block_days": "7"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    outsider = verified_client(staff_y).post(url, {"strikes_to_block": "1", "block_days": "7"})
    bad = verified_client(clinic_admin_x).post(url, {"strikes_to_block": "0", "block_days": "x"}, follow=True)

    assert refused.status_code == 200 and "Only the clinic&#x27;s admin" in refused.content.decode()
    assert outsider.status_code == 404
    assert bad.status_code == 200
    assert not NoShowPolicy.objects.exists()
