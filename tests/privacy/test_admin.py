"""The data-protection officer closes data-subject requests in the admin through the service, so
each change is validated, stamped and audited with who made it, from which status to which."""

from datetime import timedelta

import pytest
from django.utils import timezone

from medplatform.errors import ValidationFailed
from privacy.models import AuditEntry, DataSubjectRequest
from privacy.subject_rights import privacy_request_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_request(patient_ayse):
    return DataSubjectRequest.objects.create(
        subject=patient_ayse,
        type=DataSubjectRequest.Type.ACCESS,
        details="Migren tedavimle ilgili kayıtlar",
        due_date=timezone.now().date() + timedelta(days=30),
    )


def _url(privacy_request) -> str:
    return f"/admin/privacy/datasubjectrequest/{privacy_request.pk}/change/"


@pytest.mark.parametrize("status", ["answered", "rejected"])
def test_closing_a_request_in_the_admin_writes_one_audit_entry_with_the_actor_and_both_statuses(
    superuser_client, platform_admin, open_request, patient_ayse, status
):
    listing = superuser_client.get("/admin/privacy/datasubjectrequest/")
    response = superuser_client.post(_url(open_request), {"status": status})

    open_request.refresh_from_db()
    entry = AuditEntry.objects.get()
    assert listing.status_code == 200 and response.status_code == 302
    assert open_request.status == status and open_request.answered_at is not None
    assert (entry.actor, entry.actor_role, entry.action, entry.patient) == (
        platform_admin,
        "admin",
        "privacy_request_status_changed",
        patient_ayse,
    )
    assert entry.metadata == {"request": str(open_request.pk), "type": "access", "from": "open", "to": status}
    assert "Migren" not in str(entry.metadata)


def test_saving_a_request_without_changing_its_status_writes_nothing(superuser_client, open_request):
    response = superuser_client.post(_url(open_request), {"status": "open"})

    open_request.refresh_from_db()
    assert response.status_code == 302
    assert open_request.status == "open" and open_request.answered_at is None
    assert not AuditEntry.objects.exists()


def test_the_admin_changes_nothing_but_the_status(superuser_client, open_request):
    due_date = open_request.due_date

    superuser_client.post(
        _url(open_request),
        {"status": "answered", "type": "erasure", "details": "rewritten", "due_date": "2099-01-01"},
    )

    open_request.refresh_from_db()
    assert (open_request.type, open_request.details, open_request.due_date) == (
        "access",
        "Migren tedavimle ilgili kayıtlar",
        due_date,
    )
    assert AuditEntry.objects.count() == 1


def test_a_closed_request_stays_closed_in_the_admin(superuser_client, open_request, platform_admin):
    privacy_request_update(privacy_request=open_request, actor=platform_admin, status="answered")
    answered_at = DataSubjectRequest.objects.get().answered_at

    page = superuser_client.get(_url(open_request))
    response = superuser_client.post(_url(open_request), {"status": "open"})

    open_request.refresh_from_db()
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    assert response.status_code == 302
    assert (open_request.status, open_request.answered_at) == ("answered", answered_at)
    # the close, and the officer's read of the page; the refused change wrote nothing
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "privacy_request_status_changed",
        "privacy_request_viewed",
    ]


@pytest.mark.parametrize(("current", "new"), [("open", "open"), ("answered", "rejected"), ("rejected", "open")])
def test_the_service_refuses_anything_but_closing_an_open_request(open_request, platform_admin, current, new):
    DataSubjectRequest.objects.filter(pk=open_request.pk).update(status=current)

    with pytest.raises(ValidationFailed) as refused:
        privacy_request_update(privacy_request=open_request, actor=platform_admin, status=new)

    assert "status" in refused.value.fields
    assert DataSubjectRequest.objects.get().status == current
    assert not AuditEntry.objects.exists()


def test_requests_are_neither_added_nor_deleted_in_the_admin(superuser_client, open_request):
    add = superuser_client.get("/admin/privacy/datasubjectrequest/add/")
    delete = superuser_client.post(f"/admin/privacy/datasubjectrequest/{open_request.pk}/delete/", {"post": "yes"})

    assert [add.status_code, delete.status_code] == [403, 403]
    assert DataSubjectRequest.objects.filter(pk=open_request.pk).exists()


def test_opening_a_request_in_the_admin_is_in_the_subjects_access_log(
    superuser_client, platform_admin, open_request, patient_ayse, as_user
):
    response = superuser_client.get(_url(open_request))

    entry = AuditEntry.objects.get()
    assert response.status_code == 200 and open_request.details in response.content.decode()
    assert (entry.actor, entry.patient, entry.action) == (platform_admin, patient_ayse, "privacy_request_viewed")
    log = as_user(patient_ayse).get("/api/v1/health-profile/access-log/").json()["results"]
    assert [row["action"] for row in log] == ["privacy_request_viewed"]
