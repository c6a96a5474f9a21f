"""A real streaming replica of this run's private PostgreSQL: anonymous search and slot reads are
served by it, it refuses writes, and booking is exactly as correct as without it.

The replica is made the way an operator would: `pg_basebackup -R` from the primary (which
scripts/with_services.py starts with wal_level=replica and replication connections allowed), then
a second `postgres` on a free loopback port, in a temporary directory removed afterwards."""

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments.demo import create_demo_schedule
from appointments.models import Appointment
from medplatform.db_routing import REPLICA, STICKY_COOKIE, PrimaryReplicaRouter
from tests.appointments.conftest import at, grant_booking_consent, working_day

# `replica` is declared so that the test may query it; as a test mirror of `default` it is never
# flushed or restored (it cannot be: it is read-only, and it follows the primary by itself).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", REPLICA]),
]

ROOT = Path(__file__).resolve().parents[2]


def _with_services():
    spec = importlib.util.spec_from_file_location("with_services", ROOT / "scripts" / "with_services.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """A hot standby of the test database's server, registered as the `replica` alias."""
    services = _with_services()
    primary = connections["default"].settings_dict
    bindir = services.postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="medplatform-replica-"))
    root.chmod(0o755)
    data = root / "standby"
    run_as: dict = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root; the primary runs as `postgres` too
        account = pwd.getpwnam("postgres")
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        data.mkdir(mode=0o700)
        os.chown(data, account.pw_uid, account.pw_gid)
    backup = [
        str(bindir / "pg_basebackup"),
        f"--dbname=host={primary['HOST']} port={primary['PORT']} user={primary['USER'] or 'postgres'}",
        "-D",
        str(data),
        "-R",  # standby.signal and primary_conninfo: a streaming replica of the primary
        "-X",
        "stream",
        "--no-sync",
        "--checkpoint=fast",
    ]
    subprocess.run(backup, check=True, capture_output=True, timeout=300, cwd=root, **run_as)
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SHOW max_connections")  # a standby refuses to run with fewer than its primary
        max_connections = cursor.fetchone()[0]
    port = services.free_port()
    log = root / "standby.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(data)]
            + ["-c", "listen_addresses=127.0.0.1", "-c", "hot_standby=on", "-c", "fsync=off"]
            + ["-c", f"max_connections={max_connections}"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
            **run_as,
        )
    try:
        try:
            _wait(lambda: services._postgres_ready(port), "the replica to accept connections")
        except AssertionError:
            raise AssertionError(log.read_text()[-3000:]) from None
        settings.DATABASES[REPLICA] = {**primary, "PORT": str(port), "TEST": {"MIRROR": "default"}}
        yield port
    finally:
        if REPLICA in settings.DATABASES:
            with django_db_blocker.unblock():
                connections[REPLICA].close()
            try:
                del connections[REPLICA]
            except AttributeError:
                pass  # never opened in this thread
            settings.DATABASES.pop(REPLICA, None)
        try:
            os.killpg(process.pid, signal.SIGINT)  # fast shutdown
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def schedule_x(doctor_x, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    return doctor_x


@pytest.fixture
def day():
    return working_day()


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary has written so far.

    The insert position, not pg_current_wal_lsn(): the private primary runs with
    synchronous_commit=off, so the commit records of the rows just written may still sit in WAL
    buffers, past the write position, until the WAL writer flushes them; a replica caught up to
    the write position could not see those rows yet."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        target = cursor.fetchone()[0]

    def replayed() -> bool:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            return bool(cursor.fetchone()[0])

    _wait(replayed, "the replica to replay the primary's writes")


def served_by(client: APIClient, path: str):
    """(response, queries on the primary, queries on the replica) of one GET."""
    with CaptureQueriesContext(connections["default"]) as on_primary:
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            response = client.get(path)
    return response, len(on_primary.captured_queries), len(on_replica.captured_queries)


@pytest.fixture(autouse=True)
def caches_off(settings):
    """These tests show where each read is served; a slot or search answer from the cache is served
    by neither database (test_the_*_cache_is_filled_from_the_primary_only cover the two together)."""
    settings.SLOT_CACHE_SECONDS = 0
    settings.SEARCH_CACHE_SECONDS = 0


def test_it_is_a_replica_that_refuses_writes(replica):
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
    with pytest.raises(DatabaseError, match="read-only"):
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("UPDATE accounts_clinic SET name = name")
    # and nothing is ever sent there to write or migrate
    assert PrimaryReplicaRouter().db_for_write(Appointment) == "default"
    assert PrimaryReplicaRouter().allow_migrate(REPLICA, "appointments") is False


def test_anonymous_search_and_slots_are_read_from_the_replica(replica, schedule_x, day):
    caught_up()
    slots = f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}"

    response, on_primary, on_replica = served_by(APIClient(), slots)

    assert response.status_code == 200
    assert at(day, 10).isoformat() in {slot["start"] for slot in response.json()}
    assert (on_primary, on_replica > 0) == (0, True)
    response, on_primary, on_replica = served_by(APIClient(), "/api/v1/doctors/")
    assert response.status_code == 200 and response.json()["count"] >= 1
    assert (on_primary, on_replica > 0) == (0, True)


def test_signed_in_reads_stay_on_the_primary(replica, as_user, schedule_x, patient_ayse, day):
    caught_up()
    slots = f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}"

    response, on_primary, on_replica = served_by(as_user(patient_ayse), slots)

    assert response.status_code == 200
    assert (on_primary > 0, on_replica) == (True, 0)


def test_booking_is_unchanged_and_who_has_just_booked_reads_the_primary(
    replica, as_user, schedule_x, patient_ayse, patient_mehmet, day
):
    grant_booking_consent(patient_ayse)
    grant_booking_consent(patient_mehmet)
    body = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}
    slots = f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}"
    taken = at(day, 10).isoformat()

    booked = as_user(patient_ayse).post("/api/v1/appointments/", body, format="json")
    again = as_user(patient_mehmet).post("/api/v1/appointments/", body, format="json")

    assert booked.status_code == 201 and again.status_code == 409
    assert Appointment.objects.filter(doctor=schedule_x, status="booked").count() == 1
    # The booker's browser, anonymous but stamped by the write, reads the primary at once.
    browser = APIClient()
    browser.cookies[STICKY_COOKIE] = booked.cookies[STICKY_COOKIE].value
    response, on_primary, on_replica = served_by(browser, slots)
    assert (on_primary > 0, on_replica) == (True, 0)
    assert taken not in {slot["start"] for slot in response.json()}
    # Everyone else reads the replica, which shows the slot taken once it has replayed the booking.
    caught_up()
    response, on_primary, on_replica = served_by(APIClient(), slots)
    assert (on_primary, on_replica > 0) == (0, True)
    assert taken not in {slot["start"] for slot in response.json()}


def test_the_slot_cache_is_filled_from_the_primary_only(replica, as_user, schedule_x, patient_ayse, day, settings):
    """A stale replica must not store a taken slot under a current version: a read served by the
    replica stores nothing; a read served by the primary does, and everyone's next read uses it."""
    settings.SLOT_CACHE_SECONDS = 600
    caught_up()
    slots = f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}"

    first = served_by(APIClient(), slots)
    second = served_by(APIClient(), slots)
    assert [(on_primary, on_replica > 0) for _, on_primary, on_replica in (first, second)] == [(0, True)] * 2

    grant_booking_consent(patient_ayse)
    body = {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"}
    booked = as_user(patient_ayse).post("/api/v1/appointments/", body, format="json")
    assert booked.status_code == 201
    browser = APIClient()
    browser.cookies[STICKY_COOKIE] = booked.cookies[STICKY_COOKIE].value
    response, on_primary, on_replica = served_by(browser, slots)  # the booker: primary, stored
    assert (on_primary > 0, on_replica) == (True, 0)
    assert at(day, 10).isoformat() not in {slot["start"] for slot in response.json()}

    response, on_primary, on_replica = served_by(APIClient(), slots)  # anyone: the stored answer
    assert (on_primary, on_replica) == (0, 0)
    assert at(day, 10).isoformat() not in {slot["start"] for slot in response.json()}


def test_the_search_cache_is_filled_from_the_primary_only(replica, as_user, schedule_x, patient_ayse, day, settings):
    """As the slot cache: a search served by the replica stores nothing; one served by the primary
    (the booker's, just after booking) does, and everyone's next search uses it."""
    settings.SEARCH_CACHE_SECONDS = 600
    caught_up()

    first = served_by(APIClient(), "/api/v1/doctors/")
    second = served_by(APIClient(), "/api/v1/doctors/")
    assert [(on_primary, on_replica > 0) for _, on_primary, on_replica in (first, second)] == [(0, True)] * 2

    grant_booking_consent(patient_ayse)
    shown = first[0].json()["results"][0]["next_available"]
    body = {"doctor": str(schedule_x.id), "start": shown, "visit_reason": "kontrol"}
    booked = as_user(patient_ayse).post("/api/v1/appointments/", body, format="json")
    assert booked.status_code == 201
    browser = APIClient()
    browser.cookies[STICKY_COOKIE] = booked.cookies[STICKY_COOKIE].value
    response, on_primary, on_replica = served_by(browser, "/api/v1/doctors/")  # the booker: primary, stored
    assert (on_primary > 0, on_replica) == (True, 0)
    assert response.json()["results"][0]["next_available"] > shown

    response, on_primary, on_replica = served_by(APIClient(), "/api/v1/doctors/")  # anyone: the stored answer
    assert (on_primary, on_replica) == (0, 0)
    assert response.json()["results"][0]["next_available"] > shown
