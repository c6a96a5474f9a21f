"""A signed-in request's user comes from its state in Redis (accounts.auth_state): no query once
seeded, and never older than the row. Deactivation, erasure, a role, language or password change
take effect on the very next request with the old token; with Redis down requests read the row.

The tests that count on Redis are marked `services` (the embedded run has no shared cache: every
request reads the row there, as the revocation tests show on both runs)."""

import jwt
import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import auth_state
from accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

DOWN = "redis://127.0.0.1:1/0"


def committed(django_capture_on_commit_callbacks, save):
    """Run `save` as production does: its after-commit step runs (the test's transaction never commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        save()


def test_deactivation_refuses_the_old_token_on_the_next_request(
    as_user, patient_ayse, django_capture_on_commit_callbacks
):
    client = as_user(patient_ayse)
    assert client.get("/api/v1/me/").status_code == 200

    patient_ayse.is_active = False
    committed(django_capture_on_commit_callbacks, lambda: patient_ayse.save(update_fields=["is_active"]))

    assert client.get("/api/v1/me/").status_code == 401


def test_erasure_refuses_the_old_access_token_on_the_next_request(as_user, patient_ayse):
    client = as_user(patient_ayse)
    assert client.get("/api/v1/me/").status_code == 200

    assert client.post("/api/v1/me/erase/", {"password": TEST_PASSWORD}).status_code == 202

    assert client.get("/api/v1/me/").status_code == 401


def test_a_role_change_applies_to_the_next_request(as_user, patient_ayse, django_capture_on_commit_callbacks):
    client = as_user(patient_ayse)
    # a patient may book: the empty body is refused for its fields, not for the role
    assert client.post("/api/v1/appointments/", {}, format="json").status_code == 400

    patient_ayse.role = User.Role.CLINIC_STAFF
    committed(django_capture_on_commit_callbacks, lambda: patient_ayse.save(update_fields=["role"]))

    assert client.post("/api/v1/appointments/", {}, format="json").status_code == 403
    assert client.get("/api/v1/me/").json()["role"] == "clinic_staff"


def test_a_language_change_applies_to_the_next_request(as_user, patient_ayse, django_capture_on_commit_callbacks):
    client = as_user(patient_ayse)
    assert client.post("/api/v1/appointments/", {}, format="json").json()["detail"] == "Geçersiz giriş."

    with django_capture_on_commit_callbacks(execute=True):
        assert client.patch("/api/v1/me/", {"language": "en"}, format="json").status_code == 200

    assert client.post("/api/v1/appointments/", {}, format="json").json()["detail"] == "Invalid input."


def test_a_token_signed_with_another_key_is_refused_even_with_the_state_cached(as_user, api, patient_ayse):
    assert as_user(patient_ayse).get("/api/v1/me/").status_code == 200
    claims = RefreshToken.for_user(patient_ayse).access_token.payload
    forged = jwt.encode(claims, "not-the-signing-key-of-this-deployment", algorithm="HS256")

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.services
def test_with_revocation_on_password_change_every_request_reads_the_row(
    as_user, patient_ayse, settings, django_assert_num_queries
):
    client = as_user(patient_ayse)
    assert client.get("/api/v1/appointments/").status_code == 200  # the state is seeded
    assert auth_state.cached_state(patient_ayse.pk) is not None

    # simplejwt's CHECK_REVOKE_TOKEN compares the token with the password hash, which the state
    # does not hold: 1 the user's row, 2 the count of the patient's appointments
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    with django_assert_num_queries(2):
        client.get("/api/v1/appointments/")


def test_a_bulk_update_of_a_users_state_is_refused(patient_ayse):
    with pytest.raises(TypeError):
        User.objects.filter(pk=patient_ayse.pk).update(is_active=False)
    with pytest.raises(TypeError):
        User.objects.bulk_update([patient_ayse], ["role"])
    assert User.objects.filter(pk=patient_ayse.pk).update(first_name="Ayşe") == 1


@pytest.mark.services
def test_a_seeded_user_costs_no_query_and_reads_the_rest_of_its_row_in_one(
    as_user, patient_ayse, django_capture_on_commit_callbacks, django_assert_num_queries
):
    patient_ayse.national_id = "10000000146"
    committed(django_capture_on_commit_callbacks, lambda: patient_ayse.save())
    client = as_user(patient_ayse)
    # 1 the user of the access token (no state yet: this request seeds it), 2 the count of the
    # patient's appointments (none: no page to read)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/appointments/").status_code == 200

    # 1 the count: the user comes from its state
    with django_assert_num_queries(1):
        assert client.get("/api/v1/appointments/").status_code == 200

    # 1 the rest of the user's row, every deferred field at once: the state has no e-mail
    with django_assert_num_queries(1):
        body = client.get("/api/v1/me/").json()

    assert (body["email"], body["role"], body["national_id"]) == ("ayse@example.test", "patient", "*******0146")


@pytest.mark.services
def test_a_row_read_before_a_write_never_lands_after_it(patient_ayse, django_capture_on_commit_callbacks):
    # given a request that found no state and read the row
    seed = auth_state.seed_begin(patient_ayse.pk)
    read_before = auth_state.state_of(patient_ayse)
    # when the account is deactivated, and committed, before that request stores what it read
    patient_ayse.is_active = False
    committed(django_capture_on_commit_callbacks, lambda: patient_ayse.save(update_fields=["is_active"]))
    auth_state.seed_end(patient_ayse.pk, seed, read_before)
    # then nothing is stored
    assert auth_state.cached_state(patient_ayse.pk) is None


@pytest.mark.services
def test_a_row_read_during_a_write_is_not_stored(patient_ayse):
    seed = auth_state.seed_begin(patient_ayse.pk)
    mark = auth_state.writer_begin(patient_ayse.pk)

    auth_state.seed_end(patient_ayse.pk, seed, auth_state.state_of(patient_ayse))

    assert auth_state.cached_state(patient_ayse.pk) is None
    auth_state.writer_end(patient_ayse.pk, mark)
    assert auth_state.cached_state(patient_ayse.pk) is None


@pytest.mark.services
def test_a_write_ending_after_a_seed_drops_the_seeded_state(patient_ayse):
    mark = auth_state.writer_begin(patient_ayse.pk)
    seed = auth_state.seed_begin(patient_ayse.pk)
    assert seed is None  # a writer in flight: requests read the row and store nothing

    auth_state.writer_end(patient_ayse.pk, mark)
    seed = auth_state.seed_begin(patient_ayse.pk)
    auth_state.seed_end(patient_ayse.pk, seed, auth_state.state_of(patient_ayse))
    assert auth_state.cached_state(patient_ayse.pk)["role"] == "patient"
    # a second writer: the state goes at its beginning, and what was read meanwhile at its end
    mark = auth_state.writer_begin(patient_ayse.pk)
    assert auth_state.cached_state(patient_ayse.pk) is None


@pytest.mark.services
def test_a_lost_write_end_keeps_the_user_on_the_database(as_user, patient_ayse, django_assert_num_queries):
    client = as_user(patient_ayse)
    patient_ayse.language = "en"
    patient_ayse.save(update_fields=["language"])  # the test's transaction never commits: no end

    for _request in range(2):
        # 1 the user of the access token, each time: a writer is still marked
        with django_assert_num_queries(1):
            client.get("/api/v1/me/")


@pytest.mark.services
def test_with_redis_down_requests_read_the_row_and_refuse_a_deactivated_account(
    as_user, patient_ayse, patient_mehmet, django_capture_on_commit_callbacks, django_assert_num_queries
):
    ayse, mehmet = as_user(patient_ayse), as_user(patient_mehmet)
    assert ayse.get("/api/v1/me/").status_code == 200
    patient_mehmet.is_active = False
    committed(django_capture_on_commit_callbacks, lambda: patient_mehmet.save(update_fields=["is_active"]))

    with override_settings(REDIS_URL=DOWN):
        # 1 the user of the access token, from the database as before
        with django_assert_num_queries(1):
            assert ayse.get("/api/v1/me/").status_code == 200
        assert mehmet.get("/api/v1/me/").status_code == 401


@pytest.mark.services
def test_with_redis_down_a_change_of_state_is_refused_and_the_row_kept(patient_ayse):
    patient_ayse.is_active = False

    with override_settings(REDIS_URL=DOWN), pytest.raises(auth_state.AuthStateUnavailable):
        patient_ayse.save(update_fields=["is_active"])

    assert User.objects.get(pk=patient_ayse.pk).is_active


@pytest.mark.services
def test_a_state_without_a_usable_password_is_kept_as_such(db, as_user, django_capture_on_commit_callbacks):
    user = UserFactory()
    client = as_user(user)
    user.set_unusable_password()
    committed(django_capture_on_commit_callbacks, lambda: user.save(update_fields=["password"]))
    client.get("/api/v1/me/")

    assert auth_state.cached_state(user.pk)["password_usable"] is False


@pytest.mark.services
def test_a_deleted_users_token_is_refused_on_the_next_request(db, as_user, django_capture_on_commit_callbacks):
    user, other = UserFactory(), UserFactory()
    client, others = as_user(user), as_user(other)
    assert client.get("/api/v1/me/").status_code == others.get("/api/v1/me/").status_code == 200

    committed(django_capture_on_commit_callbacks, lambda: user.delete())
    committed(django_capture_on_commit_callbacks, lambda: User.objects.filter(pk=other.pk).delete())

    assert client.get("/api/v1/me/").status_code == others.get("/api/v1/me/").status_code == 401
