"""When a share ends: at the expiry the patient chose, or, without one, SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT
days after the patient's last visit with that doctor (cancelled visits do not count; counted from the
grant when there is no visit or the grant is later). Categories are always explicit."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time

from appointments.models import Appointment
from health_profiles.models import ShareGrant
from privacy.models import Purpose
from privacy.services import current_version
from tests.bearer import seeded_user_query
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.health_profiles.scenario import ENTRY_VALUES, full_profile, grant_storage, share_with, visit

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
SHARED = "/api/v1/doctor/shared-profiles/"
CONSENTS = "/api/v1/consents/"
Status = Appointment.Status


def profile_url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/health-profile/"


def read_status(doctor, patient, when: datetime.datetime) -> int:
    with freeze_time(when):
        return client_for(doctor.user).get(profile_url(patient)).status_code


def as_datetime(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_default_is_180_days():
    assert settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT == 180


def test_a_share_without_expiry_ends_180_days_after_the_last_visit_that_was_not_cancelled(
    patient_ayse, doctor_x, doctor_y
):
    # given a share with no expiry and visits after it: two that count, a later cancelled one
    # with the same doctor and a later one with another doctor, which do not
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    granted = ShareGrant.objects.get().created_at
    visit(patient_ayse, doctor_x, granted + 10 * DAY)
    last = visit(patient_ayse, doctor_x, granted + 40 * DAY, status=Status.NO_SHOW)
    visit(patient_ayse, doctor_x, granted + 100 * DAY, status=Status.CANCELLED_BY_PATIENT)
    visit(patient_ayse, doctor_x, granted + 120 * DAY, status=Status.CANCELLED_BY_CLINIC)
    visit(patient_ayse, doctor_y, granted + 150 * DAY)

    # then the doctor reads 179 days after the last visit and not 181 days after it
    assert read_status(doctor_x, patient_ayse, last.start + 179 * DAY) == 200
    assert read_status(doctor_x, patient_ayse, last.start + 181 * DAY) == 404
    with freeze_time(last.start + 181 * DAY):
        assert client_for(doctor_x.user).get(SHARED).json()["count"] == 0


def test_a_later_visit_moves_the_end(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    granted = ShareGrant.objects.get().created_at
    first = visit(patient_ayse, doctor_x, granted + 10 * DAY)
    assert read_status(doctor_x, patient_ayse, first.start + 181 * DAY) == 404

    # a booked visit ahead counts as the last visit too
    visit(patient_ayse, doctor_x, first.start + 200 * DAY, status=Status.BOOKED)

    assert read_status(doctor_x, patient_ayse, first.start + 181 * DAY) == 200
    assert read_status(doctor_x, patient_ayse, first.start + 381 * DAY) == 404


def test_without_a_visit_the_share_ends_180_days_after_the_grant(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    granted = ShareGrant.objects.get().created_at
    visit(patient_ayse, doctor_x, granted + 30 * DAY, status=Status.CANCELLED_BY_PATIENT)

    assert read_status(doctor_x, patient_ayse, granted + 179 * DAY) == 200
    assert read_status(doctor_x, patient_ayse, granted + 181 * DAY) == 404


def test_a_visit_before_the_grant_counts_from_the_grant(patient_ayse, doctor_x):
    # A patient sharing today with a doctor last seen 300 days ago gives a share that runs from
    # today; counted from that old visit it would have ended before it was given.
    full_profile(patient_ayse)
    visit(patient_ayse, doctor_x, timezone.now() - 300 * DAY)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    granted = ShareGrant.objects.get().created_at

    assert read_status(doctor_x, patient_ayse, granted + 179 * DAY) == 200
    assert read_status(doctor_x, patient_ayse, granted + 181 * DAY) == 404


def test_a_chosen_expiry_is_kept_whatever_the_visits(patient_ayse, doctor_x):
    full_profile(patient_ayse)
    expires_at = timezone.now() + 30 * DAY
    share_with(patient_ayse, doctor_x, categories=["allergy"], expires_at=expires_at)
    visit(patient_ayse, doctor_x, timezone.now() + 20 * DAY, status=Status.BOOKED)

    assert read_status(doctor_x, patient_ayse, expires_at - DAY) == 200
    assert read_status(doctor_x, patient_ayse, expires_at) == 404


def test_the_doctors_read_names_the_categories_and_the_computed_end(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["medication", "allergy"])
    last = visit(patient_ayse, doctor_x, timezone.now() + 5 * DAY, status=Status.BOOKED)

    body = as_user(doctor_x.user).get(profile_url(patient_ayse)).json()

    assert body["categories"] == ["allergy", "medication"]
    assert as_datetime(body["expires_at"]) == last.start + 180 * DAY
    assert set(body) == {"patient", "categories", "expires_at", "allergies", "medications"}


def test_the_doctors_list_shows_the_computed_end_in_a_fixed_number_of_queries(
    as_user, patient_ayse, doctor_x, django_assert_num_queries
):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    ayse_visit = visit(patient_ayse, doctor_x, timezone.now() + 3 * DAY, status=Status.BOOKED)
    client = as_user(doctor_x.user)

    # 1 user for the JWT, 1 count, 1 page of shares joined to their patient; the current notice
    # version and each share's last visit are subqueries of the count and the page, not queries.
    with django_assert_num_queries(3):
        one = client.get(SHARED).json()

    last_visits = {patient_ayse.id: ayse_visit.start}
    for n in range(5):
        patient = UserFactory()
        full_profile(patient)
        share_with(patient, doctor_x, categories=["condition"])
        visit(patient, doctor_x, timezone.now() - (10 + n) * DAY, status=Status.CANCELLED_BY_CLINIC)
        if n % 2:
            last_visits[patient.id] = visit(patient, doctor_x, timezone.now() + (n + 1) * DAY, Status.BOOKED).start

    # the same count and page for six shares; the user of the token now from its state on the
    # services run (seeded_user_query)
    with django_assert_num_queries(2 + seeded_user_query()):
        six = client.get(SHARED).json()

    assert one["count"] == 1
    assert as_datetime(one["results"][0]["expires_at"]) == ayse_visit.start + 180 * DAY
    assert six["count"] == 6
    ends = {str(share.patient_id): share.created_at + 180 * DAY for share in ShareGrant.objects.all()}
    ends.update({str(patient_id): start + 180 * DAY for patient_id, start in last_visits.items()})
    assert {row["patient"]: as_datetime(row["expires_at"]) for row in six["results"]} == ends


def test_a_share_row_naming_no_category_grants_nothing(as_user, patient_ayse, doctor_x):
    # given a row as written before categories were required, when an empty list meant "everything"
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    ShareGrant.objects.update(categories=[])
    client = as_user(doctor_x.user)

    response = client.get(profile_url(patient_ayse))

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert ENTRY_VALUES["allergy"]["name"] not in response.content.decode()
    assert client.get(SHARED).json()["count"] == 0


def test_the_consent_receipt_says_which_end_applies(as_user, patient_ayse, doctor_x, doctor_y):
    grant_storage(patient_ayse)
    client = as_user(patient_ayse)
    version = current_version(Purpose.HEALTH_PROFILE_SHARE)
    expires_at = timezone.now() + 30 * DAY

    after_visit = client.post(
        CONSENTS,
        {
            "purpose": "health_profile_share",
            "text_version": version,
            "doctor": str(doctor_x.id),
            "categories": ["allergy"],
        },
        format="json",
    )
    at_expiry = client.post(
        CONSENTS,
        {
            "purpose": "health_profile_share",
            "text_version": version,
            "doctor": str(doctor_y.id),
            "categories": ["condition", "allergy"],
            "expires_at": expires_at.isoformat(),
        },
        format="json",
    )

    assert after_visit.status_code == 201, after_visit.json()
    receipt = after_visit.json()
    assert (receipt["categories"], receipt["expires_at"]) == (["allergy"], None)
    assert (receipt["ends"], receipt["ends_after_days"]) == ("after_last_visit", 180)
    assert at_expiry.status_code == 201, at_expiry.json()
    receipt = at_expiry.json()
    assert (receipt["categories"], as_datetime(receipt["expires_at"])) == (["allergy", "condition"], expires_at)
    assert (receipt["ends"], receipt["ends_after_days"]) == ("at_expiry", None)
    listed = {c["id"]: (c["ends"], c["ends_after_days"]) for c in client.get(CONSENTS).json()["results"]}
    assert listed == {
        after_visit.json()["id"]: ("after_last_visit", 180),
        at_expiry.json()["id"]: ("at_expiry", None),
        str(patient_ayse.consent_events.get(purpose=Purpose.HEALTH_PROFILE_STORAGE).id): (None, None),
    }


@pytest.mark.parametrize(
    ("language", "days", "categories"), [("tr", "180 gün", "kategoriler"), ("en", "180 days", "categories")]
)
def test_the_current_share_text_states_the_categories_and_the_end_rule(api, language, days, categories):
    response = api.get("/api/v1/consent-texts/?purpose=health_profile_share", HTTP_ACCEPT_LANGUAGE=language)

    [text] = response.json()
    assert text["version"] == current_version(Purpose.HEALTH_PROFILE_SHARE) >= 2
    assert days in text["text"]
    assert categories in text["text"]
