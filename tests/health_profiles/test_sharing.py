import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from health_profiles.models import ShareGrant
from privacy.models import AuditEntry, ConsentEvent, ConsentText, Purpose
from privacy.services import consent_withdraw, current_version
from tests.bearer import seeded_user_query
from tests.health_profiles.scenario import ALL_CATEGORIES, ENTRY_VALUES, full_profile, grant_storage, share_with

pytestmark = pytest.mark.django_db

CONSENTS = "/api/v1/consents/"
SHARED = "/api/v1/doctor/shared-profiles/"


def profile_url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/health-profile/"


def share_version() -> int:
    return current_version(Purpose.HEALTH_PROFILE_SHARE)


def test_a_patient_shares_chosen_categories_with_a_doctor_through_the_consent_api(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    expires_at = timezone.now() + datetime.timedelta(days=30)

    response = as_user(patient_ayse).post(
        CONSENTS,
        {
            "purpose": "health_profile_share",
            "text_version": share_version(),
            "doctor": str(doctor_x.id),
            "categories": ["allergy", "medication"],
            "expires_at": expires_at.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    share = ShareGrant.objects.get()
    assert (share.patient, share.doctor, share.categories) == (patient_ayse, doctor_x, ["allergy", "medication"])
    assert share.expires_at == expires_at
    assert str(share.consent_id) == response.json()["id"]


def test_a_doctor_reads_only_the_shared_categories(as_user, patient_ayse, doctor_x):
    entries = full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy", "condition"])

    response = as_user(doctor_x.user).get(profile_url(patient_ayse))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"patient", "categories", "expires_at", "allergies", "conditions"}
    assert [item["id"] for item in body["allergies"]] == [str(entries["allergy"].id)]
    assert body["allergies"][0]["severity"] == "severe"
    assert ENTRY_VALUES["medication"]["name"] not in response.content.decode()
    assert ENTRY_VALUES["treatment"]["name"] not in response.content.decode()


def test_a_share_of_every_category_shows_every_category(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["treatment", "allergy", "condition", "medication"])

    body = as_user(doctor_x.user).get(profile_url(patient_ayse)).json()

    assert body["categories"] == ["allergy", "medication", "condition", "treatment"]
    assert all(len(body[group]) == 1 for group in ("allergies", "medications", "conditions", "treatments"))


@pytest.mark.parametrize("categories", [None, []], ids=["missing", "empty"])
def test_a_share_without_categories_is_refused_and_nothing_is_recorded(as_user, patient_ayse, doctor_x, categories):
    grant_storage(patient_ayse)
    body = {"purpose": "health_profile_share", "text_version": share_version(), "doctor": str(doctor_x.id)}
    if categories is not None:
        body["categories"] = categories

    response = as_user(patient_ayse).post(CONSENTS, body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert list(response.json()["fields"]) == ["categories"]
    assert not ConsentEvent.objects.filter(purpose=Purpose.HEALTH_PROFILE_SHARE).exists()
    assert not ShareGrant.objects.exists()
    assert not AuditEntry.objects.filter(action="consent_granted:health_profile_share").exists()


def test_every_read_by_a_doctor_is_audited_without_health_values(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    grant = share_with(patient_ayse, doctor_x, categories=["allergy"])
    client = as_user(doctor_x.user)

    client.get(profile_url(patient_ayse))
    client.get(profile_url(patient_ayse), HTTP_X_REQUEST_ID="req-42")

    reads = AuditEntry.objects.filter(action="health_profile_read").order_by("at")
    assert reads.count() == 2
    last = reads.last()
    assert (last.actor, last.actor_role, last.patient, last.categories) == (
        doctor_x.user,
        "doctor",
        patient_ayse,
        ["allergy"],
    )
    assert last.request_id == "req-42"
    assert last.metadata == {"share": str(ShareGrant.objects.get().id), "consent": str(grant.id), "entries": 1}


def test_the_doctor_lists_patients_with_an_active_share(
    as_user, patient_ayse, patient_mehmet, doctor_x, doctor_y, django_assert_num_queries
):
    full_profile(patient_ayse)
    full_profile(patient_mehmet)
    expires_at = timezone.now() + datetime.timedelta(days=30)
    share_with(patient_ayse, doctor_x, categories=["condition", "allergy"], expires_at=expires_at)
    share_with(patient_mehmet, doctor_y, categories=ALL_CATEGORIES)
    client = as_user(doctor_x.user)

    # 1 user for the JWT, 1 count, 1 page of shares joined to their patient (the current
    # notice version and the last visit are subqueries of both).
    with django_assert_num_queries(3):
        response = client.get(SHARED)

    assert response.json()["results"] == [
        {
            "patient": str(patient_ayse.id),
            "name": "Ayşe Yılmaz",
            "categories": ["allergy", "condition"],
            # in the default clinic zone, as every time the API sends
            "expires_at": expires_at.astimezone(ZoneInfo("Europe/Istanbul")).isoformat(),
        }
    ]


def test_an_expired_share_is_not_found_at_once(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"], expires_at=timezone.now() + datetime.timedelta(hours=1))

    with freeze_time(timezone.now() + datetime.timedelta(hours=1, seconds=1)):
        client = as_user(doctor_x.user)
        read = client.get(profile_url(patient_ayse))
        listed = client.get(SHARED)

    assert (read.status_code, read.json()["code"]) == (404, "not_found")
    assert listed.json()["count"] == 0


def test_a_share_on_an_outdated_notice_no_longer_gives_access(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    ConsentText.objects.create(
        purpose=Purpose.HEALTH_PROFILE_SHARE, version=share_version() + 1, language="tr", text="next"
    )

    assert as_user(doctor_x.user).get(profile_url(patient_ayse)).status_code == 404


def test_sharing_needs_the_storage_consent_first(as_user, patient_ayse, doctor_x):
    response = as_user(patient_ayse).post(
        CONSENTS,
        {
            "purpose": "health_profile_share",
            "text_version": share_version(),
            "doctor": str(doctor_x.id),
            "categories": ["allergy"],
        },
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "consent_required")
    assert not ConsentEvent.objects.filter(purpose=Purpose.HEALTH_PROFILE_SHARE).exists()
    assert not ShareGrant.objects.exists()


def test_an_unknown_category_is_refused_and_nothing_is_recorded(as_user, patient_ayse, doctor_x):
    grant_storage(patient_ayse)

    response = as_user(patient_ayse).post(
        CONSENTS,
        {
            "purpose": "health_profile_share",
            "text_version": share_version(),
            "doctor": str(doctor_x.id),
            "categories": ["allergy", "genome"],
        },
        format="json",
    )

    assert response.status_code == 400
    assert "categories" in response.json()["fields"]
    assert not ConsentEvent.objects.filter(purpose=Purpose.HEALTH_PROFILE_SHARE).exists()


def test_a_doctor_without_a_share_gets_404_even_for_an_existing_patient(as_user, patient_ayse, doctor_x, doctor_y):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)

    response = as_user(doctor_y.user).get(profile_url(patient_ayse))

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not AuditEntry.objects.filter(action="health_profile_read").exists()


def test_the_patient_sees_who_read_their_profile_in_the_access_log(
    as_user, patient_ayse, doctor_x, django_assert_num_queries
):
    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=["allergy"])
    as_user(doctor_x.user).get(profile_url(patient_ayse))
    client = as_user(patient_ayse)

    # 1 user for the JWT, 1 count, 1 page of entries joined to the actor and the actor's doctor row.
    with django_assert_num_queries(3):
        response = client.get("/api/v1/health-profile/access-log/")

    first = response.json()["results"][0]
    assert first == {
        "actor": doctor_x.name,
        "actor_doctor": str(doctor_x.id),
        "actor_role": "doctor",
        "action": "health_profile_read",
        "categories": ["allergy"],
        "at": first["at"],
    }
    actions = [item["action"] for item in response.json()["results"]]
    assert "consent_granted:health_profile_share" in actions


def test_a_withdrawn_share_stops_the_doctors_reads_at_once(as_user, patient_ayse, doctor_x):
    full_profile(patient_ayse)
    grant = share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    doctor = as_user(doctor_x.user)
    assert doctor.get(profile_url(patient_ayse)).status_code == 200

    consent_withdraw(subject=patient_ayse, grant_id=grant.id)

    assert doctor.get(profile_url(patient_ayse)).status_code == 404


def test_a_new_share_with_the_same_doctor_replaces_the_one_in_force(as_user, patient_ayse, doctor_x, doctor_y):
    full_profile(patient_ayse)
    first = share_with(patient_ayse, doctor_x, categories=["allergy"])
    other = share_with(patient_ayse, doctor_y, categories=["allergy"])

    second = share_with(patient_ayse, doctor_x, categories=["medication"])

    assert ConsentEvent.objects.filter(grant=first, action=ConsentEvent.Action.WITHDRAW).exists()
    assert not ConsentEvent.objects.filter(grant=other).exists()
    assert list(ShareGrant.objects.filter(doctor=doctor_x).values_list("consent_id", "categories")) == [
        (second.id, ["medication"])
    ]
    body = as_user(doctor_x.user).get(profile_url(patient_ayse)).json()
    assert "allergies" not in body and len(body["medications"]) == 1


def test_a_doctors_read_costs_the_same_queries_for_4_entries_as_for_40_and_unwraps_the_key_once(
    as_user, patient_ayse, doctor_x, django_assert_num_queries
):
    from medplatform import encryption
    from tests.health_profiles.scenario import add_entry

    full_profile(patient_ayse)
    share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    client = as_user(doctor_x.user)

    def read(entries: int, user_query: int) -> dict:
        encryption._unwrapped.clear()  # nothing remembered: the data key is read from its table
        # 1 user for the JWT (a later read: seeded_user_query), 1 share with the patient's id and
        # name (consent, notice version and last visit as subqueries; compiled once per
        # connection, nothing of the patient's decrypted), 1 for the entries, 1 for the patient's
        # health data key (unwrapped once, whatever the number of values under it), 1 audit entry.
        with django_assert_num_queries(4 + user_query):
            body = client.get(profile_url(patient_ayse)).json()
        assert sum(len(body[group]) for group in ("allergies", "medications", "conditions", "treatments")) == entries
        return body

    read(4, user_query=1)
    for n in range(36):
        add_entry(patient_ayse, ALL_CATEGORIES[n % 4], name=f"Kayit-{n}")
    body = read(40, user_query=seeded_user_query())

    assert {entry["name"] for entry in body["medications"]} >= {"Metformin-ZQX", "Kayit-1", "Kayit-33"}
    assert AuditEntry.objects.filter(action="health_profile_read").count() == 2
    reads = AuditEntry.objects.filter(action="health_profile_read").values_list("metadata__entries", flat=True)
    assert sorted(reads) == [4, 40]
