"""accounts.exemptions: 65 and over, or marked by the clinic, is exempt from release and strikes;
the marks are the clinic's staff's to keep, audited, and nobody else's to see."""

from datetime import date

import pytest
from django.utils import timezone

from accounts.dependants import dependant_add
from accounts.exemptions import exemption_mark, is_exempt
from accounts.models import ClinicExemption
from appointments.demo import create_demo_schedule
from privacy.models import AuditEntry
from tests.appointments.conftest import at, book, grant_booking_consent, working_day


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


@pytest.fixture
def schedule_x(doctor_x, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    return doctor_x


@pytest.fixture
def day():
    return working_day()


@pytest.fixture
def visited(patient_ayse, schedule_x, day):
    """Ayşe has a booking at clinic_x: she is a patient of that clinic."""
    grant_booking_consent(patient_ayse)
    return book(patient_ayse, schedule_x, at(day, 10))


@pytest.mark.django_db
def test_it_exempts_from_the_65th_birthday_on(patient_ayse, clinic_x):
    visit_day = date(2026, 12, 1)
    patient_ayse.birth_date = years_before(visit_day, 65)
    patient_ayse.save(update_fields=["birth_date"])

    assert is_exempt(patient_ayse, clinic_x, on=visit_day)
    assert not is_exempt(patient_ayse, clinic_x, on=date(2026, 11, 30))  # still 64 the day before


@pytest.mark.django_db
def test_it_does_not_exempt_a_patient_without_a_birth_date_or_a_mark(patient_ayse, clinic_x):
    assert not is_exempt(patient_ayse, clinic_x)


@pytest.mark.django_db
def test_a_clinic_mark_exempts_at_that_clinic_only(visited, patient_ayse, clinic_x, clinic_y, receptionist_x):
    exemption_mark(
        actor=receptionist_x,
        clinic=clinic_x,
        patient_id=patient_ayse.id,
        reason=ClinicExemption.Reason.ONGOING_TREATMENT,
    )

    assert is_exempt(patient_ayse, clinic_x)
    assert not is_exempt(patient_ayse, clinic_y)


@pytest.mark.django_db
def test_a_dependants_birth_date_comes_from_the_guardianship(patient_ayse, clinic_x):
    old = years_before(timezone.localdate(), 70)
    guardianship = dependant_add(
        guardian=patient_ayse,
        first_name="Fatma",
        last_name="Yılmaz",
        birth_date=old,
        relationship="legal_guardian",
        authority_type="court_order",
        authority_reference="2026/123",
    )

    assert guardianship.dependant.birth_date == old
    assert is_exempt(guardianship.dependant, clinic_x)


@pytest.mark.django_db
def test_a_patient_sets_and_clears_their_birth_date(patient_ayse, as_user):
    api = as_user(patient_ayse)

    set_ = api.patch("/api/v1/me/", {"birth_date": "1950-04-02"}, format="json")
    future = api.patch("/api/v1/me/", {"birth_date": "2999-01-01"}, format="json")
    cleared = api.patch("/api/v1/me/", {"birth_date": None}, format="json")

    assert set_.status_code == 200 and set_.json()["birth_date"] == "1950-04-02"
    assert future.status_code == 400 and future.json()["fields"]["birth_date"]
    assert cleared.status_code == 200 and cleared.json()["birth_date"] is None


@pytest.mark.django_db
def test_clinic_staff_mark_list_and_remove_an_exemption(visited, patient_ayse, clinic_x, receptionist_x, as_user):
    api = as_user(receptionist_x)
    url = f"/api/v1/clinics/{clinic_x.id}/exemptions/"

    created = api.post(url, {"patient": str(patient_ayse.id), "reason": "ongoing_treatment"}, format="json")
    listed = api.get(url)
    removed = api.delete(f"{url}{created.json()['id']}/")

    assert created.status_code == 201, created.json()
    assert created.json()["patient"] == str(patient_ayse.id)
    assert created.json()["marked_by"] == str(receptionist_x.id)
    assert [row["patient"] for row in listed.json()["results"]] == [str(patient_ayse.id)]
    assert removed.status_code == 204
    assert not is_exempt(patient_ayse, clinic_x)
    assert list(
        AuditEntry.objects.filter(patient=patient_ayse, action__startswith="exemption_").values_list(
            "action", flat=True
        )
    ) == ["exemption_removed", "exemption_marked"]


@pytest.mark.django_db
def test_marking_again_updates_the_reason(visited, patient_ayse, clinic_x, receptionist_x, clinic_admin_x, as_user):
    url = f"/api/v1/clinics/{clinic_x.id}/exemptions/"
    as_user(receptionist_x).post(url, {"patient": str(patient_ayse.id), "reason": "other"}, format="json")

    again = as_user(clinic_admin_x).post(url, {"patient": str(patient_ayse.id), "reason": "care_need"}, format="json")

    assert again.status_code == 201
    [exemption] = ClinicExemption.objects.all()
    assert (exemption.reason, exemption.marked_by) == ("care_need", clinic_admin_x)


@pytest.mark.django_db
def test_another_clinics_staff_and_patients_get_404(visited, patient_ayse, clinic_x, staff_y, as_user):
    url = f"/api/v1/clinics/{clinic_x.id}/exemptions/"
    body = {"patient": str(patient_ayse.id), "reason": "other"}

    assert as_user(staff_y).get(url).status_code == 404
    assert as_user(staff_y).post(url, body, format="json").status_code == 404
    assert as_user(patient_ayse).get(url).status_code == 404
    assert as_user(patient_ayse).post(url, body, format="json").status_code == 404
    assert not ClinicExemption.objects.exists()


@pytest.mark.django_db
def test_a_patient_who_never_visited_the_clinic_cannot_be_marked(patient_mehmet, clinic_x, receptionist_x, as_user):
    response = as_user(receptionist_x).post(
        f"/api/v1/clinics/{clinic_x.id}/exemptions/",
        {"patient": str(patient_mehmet.id), "reason": "other"},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_marking_refuses_unknown_fields_and_reasons(visited, patient_ayse, clinic_x, receptionist_x, as_user):
    url = f"/api/v1/clinics/{clinic_x.id}/exemptions/"
    api = as_user(receptionist_x)

    unknown = api.post(url, {"patient": str(patient_ayse.id), "reason": "other", "note": "kanser"}, format="json")
    free_text = api.post(url, {"patient": str(patient_ayse.id), "reason": "kanser tedavisi"}, format="json")

    assert unknown.status_code == 400 and "note" in unknown.json()["fields"]
    assert free_text.status_code == 400 and "reason" in free_text.json()["fields"]
    assert not ClinicExemption.objects.exists()


@pytest.mark.django_db
def test_the_list_costs_a_fixed_number_of_queries(
    visited, patient_ayse, patient_mehmet, schedule_x, day, clinic_x, receptionist_x, as_user, django_assert_num_queries
):
    grant_booking_consent(patient_mehmet)
    book(patient_mehmet, schedule_x, at(day, 11))
    for patient in (patient_ayse, patient_mehmet):
        exemption_mark(actor=receptionist_x, clinic=clinic_x, patient_id=patient.id, reason="other")
    api = as_user(receptionist_x)

    # the user (token), the clinic, the membership check, the count, the page with clinic and patient
    with django_assert_num_queries(5):
        response = api.get(f"/api/v1/clinics/{clinic_x.id}/exemptions/")

    assert response.json()["count"] == 2


@pytest.mark.django_db
def test_erasure_removes_the_exemptions_and_the_birth_date(visited, patient_ayse, clinic_x, receptionist_x, as_user):
    from tests.factories import TEST_PASSWORD

    exemption_mark(actor=receptionist_x, clinic=clinic_x, patient_id=patient_ayse.id, reason="other")
    patient_ayse.birth_date = date(1950, 1, 1)
    patient_ayse.save(update_fields=["birth_date"])

    response = as_user(patient_ayse).post("/api/v1/me/erase/", {"password": TEST_PASSWORD}, format="json")

    assert response.status_code == 202
    patient_ayse.refresh_from_db()
    assert patient_ayse.birth_date is None
    assert not ClinicExemption.objects.filter(patient=patient_ayse).exists()
