"""docker-compose.yml stays true without a Docker engine.

The structure tests read the compose file on every run. The `services` tests take each
application service's own `command` and its environment block (interpolated as compose would),
point DATABASE_URL and REDIS_URL at the run's own PostgreSQL and Redis (see tests/resources.py: a
database of their own with a random `medplatform_ops_*` name, created here, migrated by the
compose `migrate` command and dropped at the end; the Redis database after REDIS_URL's), and
start it as a local process: web must answer /readyz with 200, the worker a Celery ping, and beat
must start and stay up. Every process is killed at the end. Every wait retries on errors and
timeouts alike until one generous deadline.
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
import requests
import yaml

from tests.resources import postgres_server, postgres_url, redis_url, unique_name

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent
OPS_REDIS_OFFSET = 1  # the Redis database after REDIS_URL's (whose is the test process's cache)
# One generous deadline for each readiness wait: gunicorn, Celery and beat boot slowly on a busy
# machine (gunicorn's first /readyz answer has taken 5-6 s with both cores loaded).
READY_DEADLINE = 240.0
APP_SERVICES = ("migrate", "web", "worker", "beat")

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(replace, value)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service_environment(service: str, env: dict[str, str]) -> dict[str, str]:
    raw = compose()["services"][service].get("environment") or {}
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def service_command(service: str, env: dict[str, str]) -> list[str]:
    command = compose()["services"][service]["command"]
    assert isinstance(command, list), f"{service}: give the command as a list, as the tests run it"
    return [interpolate(str(part), env) for part in command]


# --- the file itself (every run) -------------------------------------------------------------------


def test_it_has_the_full_stack():
    services = compose()["services"]

    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert service_command("web", {})[:2] == ["gunicorn", "medplatform.wsgi"]
    assert service_command("worker", {})[:4] == ["celery", "-A", "medplatform", "worker"]
    assert service_command("beat", {})[:4] == ["celery", "-A", "medplatform", "beat"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_the_app_waits_for_its_services_and_the_migration(service):
    depends_on = compose()["services"][service]["depends_on"]

    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_app_runs_in_production_on_postgres_and_redis(service):
    env = service_environment(service, {"SECRET_KEY": "k" * 50, "CRYPTOGRAPHY_KEY": "c" * 50})

    assert env["MEDPLATFORM_ENV"] == "production"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert (env["SECRET_KEY"], env["CRYPTOGRAPHY_KEY"]) == ("k" * 50, "c" * 50)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "CRYPTOGRAPHY_KEY"])
def test_it_refuses_to_start_without_real_keys(missing):
    env = {"SECRET_KEY": "k" * 50, "CRYPTOGRAPHY_KEY": "c" * 50}
    del env[missing]

    with pytest.raises(MissingVariable, match=missing):
        service_environment("web", env)


def test_interpolation_follows_compose():
    env = {"SET": "value", "EMPTY": ""}

    assert interpolate("${SET}-${UNSET:-d}-${EMPTY:-d}-${EMPTY-d}-$$HOME", env) == "value-d-d--$HOME"


# --- the commands, started natively against the local services ----------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _on_server(*statements: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=30, **postgres_server()) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def ops_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The compose environment, with the run's services in place of the compose network's."""
    database = unique_name("medplatform_ops")  # created here, so dropping it touches nothing else
    _on_server(f'CREATE DATABASE "{database}"')
    broker = redis_url(OPS_REDIS_OFFSET)
    host_env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CRYPTOGRAPHY_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_BROKER_URL", None)
    env.update(service_environment("migrate", host_env))
    env.update(
        DATABASE_URL=postgres_url(database),
        REDIS_URL=broker,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(ROOT),
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        HOME=str(tmp_path_factory.mktemp("home")),
    )
    try:
        yield env
    finally:
        _on_server(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        redis.Redis.from_url(broker).flushdb()  # what the worker and beat left in the broker


@contextlib.contextmanager
def started(service: str, env: dict[str, str], workdir: Path, extra_env: dict | None = None) -> Iterator:
    """Run the service's compose command as a local process group; always kill it afterwards."""
    full_env = {**env, **(extra_env or {})}
    log = workdir / f"{service}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            service_command(service, full_env),
            cwd=workdir,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers: prefork children, gunicorn workers


def _wait_for(check, *, what: str, process: subprocess.Popen, log: Path, timeout: float = READY_DEADLINE):
    """Call `check` until it returns something true, or fail at the one deadline.

    `check` returns None (or False) for "not yet", whatever the reason: refused, timed out or
    not the answer yet; only the deadline or the process's death ends the wait."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(0.5)


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def migrated(ops_env, tmp_path_factory) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("migrate")
    command = service_command("migrate", ops_env)
    result = subprocess.run(command, cwd=workdir, env=ops_env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return ops_env


@pytest.mark.services
def test_the_migrate_command_migrates_a_new_database(migrated):
    with psycopg.connect(migrated["DATABASE_URL"], connect_timeout=30) as conn:
        applied = conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'accounts'").fetchone()[0]

    assert applied >= 1


@pytest.mark.services
def test_web_answers_readyz(migrated, tmp_path):
    port = _free_port()
    # compose gives gunicorn its bind address through GUNICORN_CMD_ARGS; here: loopback, 2 workers
    gunicorn_args = {"GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 2 --timeout 30"}
    assert "GUNICORN_CMD_ARGS" in service_environment("web", migrated)

    # production settings redirect plain HTTP; the TLS proxy in front says https
    https = {"X-Forwarded-Proto": "https"}
    with started("web", migrated, tmp_path, gunicorn_args) as (process, log):

        def ready():
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", headers=https, timeout=30)
            except requests.RequestException:  # refused, reset or timed out: not ready yet
                return None

        response = _wait_for(ready, what="web /readyz", process=process, log=log)
        healthz = requests.get(f"http://127.0.0.1:{port}/healthz", headers=https, timeout=60)
        api = requests.get(f"http://127.0.0.1:{port}/api/v1/doctors/", headers=https, timeout=60)

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert healthz.status_code == 200
    assert api.status_code == 200 and "results" in api.json()


@pytest.mark.services
def test_the_worker_answers_a_ping(migrated, tmp_path):
    with started("worker", migrated, tmp_path) as (process, log):
        _wait_for(
            lambda: " ready." in log.read_text(errors="replace"),
            what="celery worker start",
            process=process,
            log=log,
        )

        def pong():
            try:
                result = subprocess.run(
                    [str(BIN / "celery"), "-A", "medplatform", "inspect", "ping", "--timeout", "10"],
                    cwd=tmp_path,
                    env=migrated,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return None
            return result if result.returncode == 0 and "pong" in result.stdout else None

        result = _wait_for(pong, what="celery inspect ping", process=process, log=log)

    assert "1 node online" in result.stdout or "nodes online" in result.stdout


@pytest.mark.services
def test_beat_starts_and_stays_up(migrated, tmp_path):
    with started("beat", migrated, tmp_path) as (process, log):
        _wait_for(
            lambda: "beat: Starting..." in log.read_text(errors="replace"),
            what="celery beat start",
            process=process,
            log=log,
        )
        time.sleep(4)
        still_running = process.poll() is None
        output = log.read_text(errors="replace")

    assert still_running, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
