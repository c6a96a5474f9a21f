"""Real Celery workers, Redis brokers and the test process's Celery client for the services run."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from kombu import pools as kombu_pools

from medplatform.celery import app
from tests.resources import redis_url

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def broker_url() -> str:
    """The workers' broker: the run's Redis (tests/resources.py), two databases after REDIS_URL's."""
    return redis_url(2)


# Short timings so a dead worker's row is taken over in seconds, not minutes.
FAST_TIMINGS = {
    "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.2",
    "NOTIFICATIONS_RETRY_MAX_SECONDS": "2",
    "NOTIFICATIONS_SENDING_STALE_SECONDS": "4",
    "NOTIFICATIONS_SWEEP_GRACE_SECONDS": "2",
    "TWILIO_TIMEOUT_SECONDS": "2",
}


@contextmanager
def celery_client(broker_url: str):
    """Make this (test) process publish to `broker_url` instead of running tasks eagerly."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)

    def reset_pools():
        # kombu keeps producer pools in a global registry keyed by connection: clear it too, or
        # the next test gets a pool closed by this one.
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu_pools.reset()

    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    reset_pools()
    try:
        yield app
    finally:
        reset_pools()
        app.conf.broker_url, app.conf.task_always_eager = saved


def purge(broker_url: str) -> None:
    import redis

    redis.Redis.from_url(broker_url).flushdb()


class Worker:
    """`celery -A medplatform worker --pool=solo` against the test database; restartable, killable."""

    def __init__(self, *, broker_url: str, fake, public_base_url: str, log_dir: Path):
        self.broker_url = broker_url
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "medplatform.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
            "REDIS_URL": broker_url,
            "CELERY_BROKER_URL": broker_url,
            "TWILIO_API_BASE_URL": fake.base_url,
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_SMS_FROM": "+15005550006",
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_TRANSFER_BASIS": "standard_contract",  # Twilio is abroad (KVKK Art. 9)
            "PUBLIC_BASE_URL": public_base_url,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **FAST_TIMINGS,
        }
        self.env.pop("TEST_DATABASE_NAME", None)

    def start(self) -> "Worker":
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "medplatform",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"notifications-test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, whatever it was doing is cut off."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_count(self, text: str) -> int:
        """How often `text` appears in the logs of every start of this worker."""
        return sum(path.read_text(errors="replace").count(text) for path in self.log_dir.glob("worker-*.log"))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own on a free port, to stop and restart: the run's is never stopped."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120  # generous: a loaded machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"private redis-server on port {self.port} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:  # refused or timed out: not up yet
                pass
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_until(predicate, *, timeout: float, tick=None, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    last_tick = 0.0
    while time.monotonic() < deadline:
        if predicate():
            return True
        if tick is not None and time.monotonic() - last_tick >= every:
            tick()
            last_tick = time.monotonic()
        time.sleep(0.2)
    return predicate()
