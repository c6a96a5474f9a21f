"""What the bench scripts share: a throwaway PostgreSQL database, gunicorn on a free loopback port, a load loop.

Each script keeps its own settings, seed data, endpoints and output; this module only runs them.
"""

import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

Job = Callable[[requests.Session], requests.Response]


@dataclass
class Result:
    """Latencies of the expected answers, failures by status (or exception name), and wall time."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[int | str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        """Expected answers per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """How many requests failed, whatever the reason."""
        return sum(self.errors.values())

    def percentile(self, p: float) -> float:
        """The `p`-th percentile latency in milliseconds (nearest rank), NaN without answers."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def merge(self, other: "Result") -> None:
        """Add another run of the same endpoint to this one."""
        self.latencies += other.latencies
        self.seconds += other.seconds
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count


def use_bench_environment(database_url: str, **settings: str) -> dict[str, str]:
    """Point this process (for in-process seeding) at the bench database, throwaway keys, no Redis; return a copy."""
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "MEDPLATFORM_ENV"):
        os.environ.pop(name, None)
    os.environ.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-" + secrets.token_urlsafe(40),
        CRYPTOGRAPHY_KEY="bench-only-" + secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="medplatform.settings",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        **settings,
    )
    sys.path.insert(0, str(ROOT))
    return dict(os.environ)


def _admin(server: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database, outside a transaction."""
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as conn:
        for sql in statements:
            conn.execute(sql)


@contextmanager
def database(server: str, name: str, keep: bool = False) -> Iterator[str]:
    """Create database `name` afresh on `server`, yield its URL, drop it afterwards unless `keep`."""
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        if not keep:
            _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    """Apply every migration to the database that `env` names."""
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=600)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, options: list[str], log: Path | None) -> subprocess.Popen:
    """Start gunicorn with `options` on 127.0.0.1:`port` in its own session, output to `log` (or inherited)."""
    command = [str(BIN / "gunicorn"), "medplatform.wsgi", "--bind", f"127.0.0.1:{port}", *options]
    if log is None:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip


def wait_until_up(base: str, process: subprocess.Popen, log: Path | None, timeout: float = 60) -> None:
    """Return once `base`/healthz answers 200; exit if gunicorn dies or does not answer in `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = f":\n{log.read_text()[-3000:]}" if log is not None else ""
            sys.exit(f"gunicorn exited with {process.returncode}{tail}")
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit(f"gunicorn did not answer /healthz within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn's whole process group: SIGTERM, then SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def gunicorn(env: dict[str, str], options: list[str], log: Path | None = None) -> Iterator[str]:
    """Serve the project with gunicorn on a free 127.0.0.1 port, yield its base URL once up, stop it afterwards."""
    port = free_port()
    process = start_gunicorn(env, port, options, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process, log)
        yield base
    finally:
        stop(process)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Job:
    """A job that GETs `url` with `headers` on the worker's session."""
    return lambda session: session.get(url, headers=headers, timeout=timeout)


def run(name: str, jobs: list[Job], threads: int, max_seconds: float, expect: int = 200) -> Result:
    """Send `jobs` from `threads` threads, each with its own session, stopping early at `max_seconds`."""
    result = Result(name)
    lock = threading.Lock()
    queue = list(reversed(jobs))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            started = time.perf_counter()
            try:
                status: int | str = job(session).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if status == expect:
                    result.latencies.append(elapsed)
                else:
                    result.errors[status] = result.errors.get(status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def alternate(
    endpoints: dict[str, Callable[[], Job]], rounds: int, count: int, threads: int, max_seconds: float
) -> dict[str, Result]:
    """`rounds` rounds of `count` jobs per endpoint, endpoint after endpoint so drift hits all alike; merged."""
    results = {name: Result(name) for name in endpoints}
    for _ in range(rounds):
        for name, make in endpoints.items():
            results[name].merge(run(name, [make() for _ in range(count)], threads, max_seconds))
    return results


def machine() -> str:
    """Architecture, core count and Python version, for the line above a table."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
