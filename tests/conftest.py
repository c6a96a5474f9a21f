"""Shared cast for access tests and the switch between the embedded and the real-services run.

Tests marked `postgres` need the real PostgreSQL. On the embedded SQLite run they are skipped;
on the services run (MEDPLATFORM_REQUIRE_SERVICES=1, as .ci/run sets it) a missing service is a
failure, never a skip.
"""

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import ClinicMembership, User
from tests.factories import ClinicFactory, DoctorFactory, UserFactory, clinic_member
from tests.second_factor import verified_client

REQUIRE_SERVICES = os.environ.get("MEDPLATFORM_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if on_postgres or REQUIRE_SERVICES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the services run (make test-services)")
    for item in items:
        if "postgres" in item.keywords or "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _views_imported_before_any_frozen_clock():
    """Import every view (and DRF's throttling, whose `timer = time.time` is read at import) now:
    imported first inside a freezegun block, it would keep freezegun's clock for good."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018


# Every request the suite sends runs under django-zeal's N+1 detector: a related object or set
# loaded one row at a time for rows that came from one query, or the same .get() repeated in a
# loop, fails the request (and so the test). An entry here allows one (model, field) and says why.
N_PLUS_ONE_ALLOWED: list[dict] = []


@pytest.fixture(autouse=True, scope="session")
def _n_plus_one_detector(django_test_environment):
    """django-zeal is not in INSTALLED_APPS (production never runs it): patch the ORM once and wrap
    every request of the test client and the live server in its middleware."""
    from django.conf import settings
    from django.test import override_settings
    from zeal.constants import initialize_app_registry
    from zeal.patch import patch

    initialize_app_registry()
    patch()
    middleware = ["zeal.middleware.zeal_middleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware, ZEAL_RAISE=True, ZEAL_ALLOWLIST=N_PLUS_ONE_ALLOWED):
        yield


@pytest.fixture(autouse=True)
def _require_postgres(request):
    if ("postgres" in request.keywords or "services" in request.keywords) and REQUIRE_SERVICES:
        assert connection.vendor == "postgresql", "the services run must use PostgreSQL (set DATABASE_URL)"


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api():
    return APIClient()


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def as_user():
    return client_for


@pytest.fixture
def clinic_x(db):
    return ClinicFactory(name="Klinik X", city="İstanbul")


@pytest.fixture
def clinic_y(db):
    return ClinicFactory(name="Klinik Y", city="Ankara")


@pytest.fixture
def patient_ayse(db):
    return UserFactory(email="ayse@example.test", first_name="Ayşe", last_name="Yılmaz")


@pytest.fixture
def patient_mehmet(db):
    return UserFactory(email="mehmet@example.test", first_name="Mehmet", last_name="Demir")


@pytest.fixture
def doctor_x(clinic_x):
    return DoctorFactory(user__email="doctor.x@example.test", clinics=[clinic_x])


@pytest.fixture
def doctor_y(clinic_y):
    return DoctorFactory(user__email="doctor.y@example.test", clinics=[clinic_y])


@pytest.fixture
def clinic_admin_x(clinic_x):
    return clinic_member(clinic_x, ClinicMembership.Role.ADMIN, email="admin.x@example.test")


@pytest.fixture
def receptionist_x(clinic_x):
    return clinic_member(clinic_x, ClinicMembership.Role.RECEPTIONIST, email="reception.x@example.test")


@pytest.fixture
def staff_y(clinic_y):
    return clinic_member(clinic_y, ClinicMembership.Role.ADMIN, email="admin.y@example.test")


@pytest.fixture
def platform_admin(db):
    return UserFactory(email="root@example.test", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(platform_admin):
    """The Django admin as a superuser sees it: every permission, so only the admin's own rules refuse."""
    return verified_client(platform_admin)


@pytest.fixture
def live_server(live_server, django_db_serialized_rollback):
    """A live server's test flushes the database afterwards; restore what the migrations wrote
    (specialties, consent texts, content types) so the tests after it find them."""
    return live_server


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Run Celery tasks in this process, as the embedded default does, except in the tests marked
    `services`: those start real worker processes on Redis and prove what the queue adds."""
    from medplatform.celery import app

    if "services" in request.keywords:
        yield
        return
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved
