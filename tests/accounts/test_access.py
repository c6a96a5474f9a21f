"""Who can reach what in accounts, clinics and doctors, as API.md gives it.

The cast (tests/conftest.py): anonymous, patient_ayse and patient_mehmet, doctor_x, clinic_admin_x
and receptionist_x of clinic X, staff_y (an admin of clinic Y), platform_admin. Each endpoint is
tested in allowed/refused pairs; anonymous gets 401 `not_authenticated`, a signed-in user without
the right gets 403 `permission_denied`, and ids that do not exist get 404 `not_found`.
"""

import uuid

import pytest

from accounts.models import ClinicMembership, Doctor, User

pytestmark = pytest.mark.django_db

EVERYONE = [
    "anonymous",
    "patient_ayse",
    "patient_mehmet",
    "doctor_x",
    "clinic_admin_x",
    "receptionist_x",
    "staff_y",
    "platform_admin",
]


def _user(request, who: str) -> User | None:
    if who == "anonymous":
        return None
    user = request.getfixturevalue(who)
    return user.user if isinstance(user, Doctor) else user


@pytest.fixture
def client_of(request, as_user, clinic_x, clinic_y):
    """as_user for a cast member named as a string; the two clinics always exist."""
    return lambda who: as_user(_user(request, who))


def _refused(response, who: str) -> None:
    if who == "anonymous":
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "not_authenticated"
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"


NEW_CLINIC = {"name": "Klinik Z", "city": "İzmir", "address": "Kordon 1, Konak", "timezone": "Europe/Istanbul"}


def _staff(email: str, role: str = "receptionist") -> dict:
    return {"email": email, "first_name": "Elif", "last_name": "Şahin", "phone": "05551234567", "role": role}


def _doctor(email: str, registration_number: str) -> dict:
    return {
        "email": email,
        "first_name": "Can",
        "last_name": "Öztürk",
        "phone": "05321112233",
        "specialty": "cardiology",
        "registration_number": registration_number,
        "title": "Uzm. Dr.",
        "bio": "Kardiyoloji uzmanı.",
    }


# --- public reads -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/clinics/", "/api/v1/doctors/", "/api/v1/specialties/"])
def test_anyone_can_read_the_public_lists(client_of, doctor_x, path):
    response = client_of("anonymous").get(path)

    assert response.status_code == 200
    assert response.json()["count"] >= 1


def test_anyone_can_read_a_clinic_and_a_doctor(client_of, clinic_x, doctor_x):
    anonymous = client_of("anonymous")

    assert anonymous.get(f"/api/v1/clinics/{clinic_x.id}/").json()["name"] == clinic_x.name
    assert anonymous.get(f"/api/v1/doctors/{doctor_x.id}/").json()["id"] == str(doctor_x.id)


@pytest.mark.parametrize("kind", ["clinics", "doctors"])
def test_an_unknown_clinic_or_doctor_is_404_not_found(client_of, kind):
    response = client_of("anonymous").get(f"/api/v1/{kind}/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_inactive_doctor_is_hidden_like_a_missing_one(client_of, doctor_x):
    doctor_x.is_active = False
    doctor_x.save(update_fields=["is_active"])

    response = client_of("anonymous").get(f"/api/v1/doctors/{doctor_x.id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- POST /clinics/: platform admin only ------------------------------------------------------


def test_the_platform_admin_creates_a_clinic(client_of):
    response = client_of("platform_admin").post("/api/v1/clinics/", NEW_CLINIC, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["city"] == "İzmir"


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "platform_admin"])
def test_nobody_else_creates_a_clinic(client_of, who):
    from accounts.models import Clinic

    response = client_of(who).post("/api/v1/clinics/", NEW_CLINIC, format="json")

    _refused(response, who)
    assert not Clinic.objects.filter(name="Klinik Z").exists()


# --- POST /clinics/{id}/staff/: platform admin or that clinic's admin ---------------------------


@pytest.mark.parametrize("who", ["platform_admin", "clinic_admin_x"])
def test_the_admin_or_the_clinics_own_admin_adds_staff(client_of, clinic_x, who):
    response = client_of(who).post(f"/api/v1/clinics/{clinic_x.id}/staff/", _staff("new.staff@example.test"))

    assert response.status_code == 201, response.content
    membership = ClinicMembership.objects.get(user__email="new.staff@example.test")
    assert (membership.clinic_id, membership.role) == (clinic_x.id, "receptionist")


@pytest.mark.parametrize("who", ["anonymous", "patient_ayse", "doctor_x", "receptionist_x", "staff_y"])
def test_nobody_else_adds_staff_to_clinic_x(client_of, clinic_x, who):
    response = client_of(who).post(f"/api/v1/clinics/{clinic_x.id}/staff/", _staff("new.staff@example.test"))

    _refused(response, who)
    assert not User.objects.filter(email="new.staff@example.test").exists()


def test_a_clinic_admin_can_add_staff_to_their_own_clinic_only(client_of, clinic_y):
    own = client_of("staff_y").post(f"/api/v1/clinics/{clinic_y.id}/staff/", _staff("own@example.test"))
    other = client_of("clinic_admin_x").post(f"/api/v1/clinics/{clinic_y.id}/staff/", _staff("other@example.test"))

    assert own.status_code == 201
    assert other.status_code == 403


def test_adding_staff_to_an_unknown_clinic_is_404(client_of):
    response = client_of("platform_admin").post(f"/api/v1/clinics/{uuid.uuid4()}/staff/", _staff("x@example.test"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_added_by_a_clinic_admin_can_never_be_made_platform_staff(client_of, clinic_x):
    body = {**_staff("sneaky@example.test", role="admin"), "is_staff": True, "is_superuser": True, "user_role": "admin"}

    response = client_of("clinic_admin_x").post(f"/api/v1/clinics/{clinic_x.id}/staff/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"is_staff", "is_superuser", "user_role"}
    assert not User.objects.filter(email="sneaky@example.test").exists()
    response = client_of("clinic_admin_x").post(
        f"/api/v1/clinics/{clinic_x.id}/staff/", _staff("sneaky@example.test", role="admin"), format="json"
    )
    user = User.objects.get(email="sneaky@example.test")
    assert (user.role, user.is_staff, user.is_superuser) == (User.Role.CLINIC_STAFF, False, False)
    assert user.clinic_memberships.get().role == ClinicMembership.Role.ADMIN  # a clinic admin, not a platform one


def test_an_existing_patient_cannot_be_turned_into_clinic_staff(client_of, clinic_x, patient_ayse):
    response = client_of("clinic_admin_x").post(
        f"/api/v1/clinics/{clinic_x.id}/staff/", _staff(patient_ayse.email), format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    patient_ayse.refresh_from_db()
    assert patient_ayse.role == User.Role.PATIENT
    assert not patient_ayse.clinic_memberships.exists()


# --- POST /clinics/{id}/doctors/: that clinic's admin --------------------------------------------


def test_the_clinics_admin_adds_a_doctor_to_that_clinic(client_of, clinic_x):
    response = client_of("clinic_admin_x").post(
        f"/api/v1/clinics/{clinic_x.id}/doctors/", _doctor("new.doctor@example.test", "TR-1001"), format="json"
    )

    assert response.status_code == 201, response.content
    doctor = Doctor.objects.get(registration_number="TR-1001")
    assert doctor.user.role == User.Role.DOCTOR
    assert list(doctor.clinics.all()) == [clinic_x]
    assert response.json()["id"] == str(doctor.id)


@pytest.mark.parametrize("who", ["anonymous", "patient_ayse", "doctor_x", "receptionist_x", "staff_y"])
def test_nobody_else_adds_a_doctor_to_clinic_x(client_of, clinic_x, who):
    response = client_of(who).post(
        f"/api/v1/clinics/{clinic_x.id}/doctors/", _doctor("new.doctor@example.test", "TR-1001"), format="json"
    )

    _refused(response, who)
    assert not Doctor.objects.filter(registration_number="TR-1001").exists()


def test_a_new_doctor_cannot_be_given_other_clinics_owners_or_ratings(client_of, clinic_x, clinic_y, patient_ayse):
    body = {
        **_doctor("new.doctor@example.test", "TR-1002"),
        "clinics": [str(clinic_y.id)],
        "clinic": str(clinic_y.id),
        "user": str(patient_ayse.id),
        "rating_sum": 500,
        "rating_count": 100,
        "role": "admin",
        "is_staff": True,
    }

    response = client_of("clinic_admin_x").post(f"/api/v1/clinics/{clinic_x.id}/doctors/", body, format="json")

    assert response.status_code == 400, response.content
    refused = {"clinics", "clinic", "user", "rating_sum", "rating_count", "role", "is_staff"}
    assert set(response.json()["fields"]) == refused
    assert not Doctor.objects.filter(registration_number="TR-1002").exists()
    assert not User.objects.filter(email="new.doctor@example.test").exists()


def test_an_existing_patient_cannot_be_turned_into_a_doctor(client_of, clinic_x, patient_ayse):
    response = client_of("clinic_admin_x").post(
        f"/api/v1/clinics/{clinic_x.id}/doctors/", _doctor(patient_ayse.email, "TR-1003"), format="json"
    )

    assert response.status_code == 400
    patient_ayse.refresh_from_db()
    assert patient_ayse.role == User.Role.PATIENT
    assert not Doctor.objects.filter(user=patient_ayse).exists()


# --- GET/PATCH /me/: every signed-in user, always their own ---------------------------------------


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "anonymous"])
def test_me_is_always_the_signed_in_user(request, client_of, who):
    response = client_of(who).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["id"] == str(_user(request, who).id)
    assert response["Cache-Control"] == "no-store"


def test_me_needs_a_signed_in_user(client_of):
    _refused(client_of("anonymous").get("/api/v1/me/"), "anonymous")
    _refused(client_of("anonymous").patch("/api/v1/me/", {"first_name": "X"}, format="json"), "anonymous")


def test_patching_me_changes_only_my_own_profile(client_of, patient_ayse, patient_mehmet):
    response = client_of("patient_ayse").patch(
        "/api/v1/me/", {"first_name": "Ayşegül", "id": str(patient_mehmet.id)}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"id"}
    patient_ayse.refresh_from_db()
    patient_mehmet.refresh_from_db()
    assert (patient_ayse.first_name, patient_mehmet.first_name) == ("Ayşe", "Mehmet")
    assert client_of("patient_ayse").patch("/api/v1/me/", {"first_name": "Ayşegül"}, format="json").status_code == 200
    patient_ayse.refresh_from_db()
    assert patient_ayse.first_name == "Ayşegül"


@pytest.mark.parametrize("who", ["patient_ayse", "doctor_x", "receptionist_x"])
def test_nobody_can_promote_themselves_through_me(request, client_of, who):
    user = _user(request, who)
    before = (user.role, user.email)
    body = {"role": "admin", "is_staff": True, "is_superuser": True, "email": "taken.over@example.test"}

    response = client_of(who).patch("/api/v1/me/", body, format="json")

    user.refresh_from_db()
    assert response.status_code == 400
    assert (user.role, user.email) == before
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_a_doctor_cannot_take_over_another_doctors_profile(client_of, doctor_x, doctor_y):
    response = client_of("doctor_x").patch("/api/v1/me/", {"doctor": str(doctor_y.id)}, format="json")

    assert response.status_code == 400
    doctor_y.refresh_from_db()
    assert doctor_y.user_id != doctor_x.user_id
