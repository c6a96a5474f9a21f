"""Every process that touches encrypted data refuses to start under a wrong CRYPTOGRAPHY_KEY: the
Celery worker and beat, and the management commands that read or write data. Real processes
against the test PostgreSQL database, whose canary this test commits under the right key."""

import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.conf import settings

from privacy.models import DestructionRun, EncryptionCanary
from privacy.startup import verify_encryption_canary
from tests.notifications.workers import CELERY, ROOT, Worker

# Committed rows, so the processes see them; serialized_rollback restores the migrations' rows
# (content types, consent texts) after the flush, for the tests that follow.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WRONG = "not-the-key-the-data-was-written-with-0123456789"
REFUSAL = "Refusing to start: data in this database was encrypted with a key that is neither CRYPTOGRAPHY_KEY"
# A process that does not refuse would run on: the test fails at this limit instead of hanging.
LIMIT = 180


@pytest.fixture
def canary():
    verify_encryption_canary()  # committed: the subprocesses see it
    assert EncryptionCanary.objects.get().value == EncryptionCanary.PLAINTEXT


@pytest.fixture
def worker(tmp_path):
    fake_twilio = SimpleNamespace(base_url="http://127.0.0.1:9", account_sid="AC-unused", auth_token="unused")
    worker = Worker(
        broker_url=settings.REDIS_URL, fake=fake_twilio, public_base_url="http://testserver", log_dir=tmp_path
    )
    worker.env["CRYPTOGRAPHY_KEY"] = settings.CRYPTOGRAPHY_KEY  # the key this process wrote the canary with
    worker.env.pop("CRYPTOGRAPHY_OLD_KEYS", None)
    yield worker
    worker.stop()


def env_with_key(worker: Worker, key: str, **extra: str) -> dict[str, str]:
    return {**worker.env, "CRYPTOGRAPHY_KEY": key, **extra}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=LIMIT
    )


def test_a_celery_worker_with_a_wrong_key_exits_non_zero_with_the_reason(canary, worker, tmp_path):
    assert settings.REDIS_URL, "the services run provides REDIS_URL for the worker's broker"
    worker.env = env_with_key(worker, WRONG)

    worker.start()
    returncode = worker.process.wait(timeout=LIMIT)

    log = (tmp_path / "worker-1.log").read_text(errors="replace")
    assert returncode != 0
    assert f"celery worker: EncryptionKeyMismatch: {REFUSAL}" in log
    assert "ready." not in log


def test_celery_beat_with_a_wrong_key_exits_non_zero_with_the_reason(canary, worker, tmp_path):
    beat = subprocess.run(
        [CELERY, "-A", "medplatform", "beat", "--schedule", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env=env_with_key(worker, WRONG),
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )

    assert beat.returncode != 0
    assert f"celery beat: EncryptionKeyMismatch: {REFUSAL}" in beat.stderr


def test_run_destruction_with_a_wrong_key_exits_non_zero_and_destroys_nothing(canary, worker):
    right = manage(worker.env, "run_destruction")
    runs_before = DestructionRun.objects.count()

    wrong = manage(env_with_key(worker, WRONG), "run_destruction")

    assert right.returncode == 0, right.stderr[-2000:]  # the same command and database with the right key
    assert runs_before == 1
    assert wrong.returncode != 0
    assert f"CommandError: {REFUSAL}" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert DestructionRun.objects.count() == runs_before


def test_seed_demo_with_a_wrong_key_exits_non_zero(canary, worker):
    wrong = manage(env_with_key(worker, WRONG), "seed_demo")

    assert wrong.returncode != 0
    assert f"CommandError: {REFUSAL}" in wrong.stderr


def test_the_rotation_runs_with_the_new_key_and_the_old_one_listed_and_not_without_it(canary, worker):
    right_key = worker.env["CRYPTOGRAPHY_KEY"]

    without_old = manage(env_with_key(worker, WRONG), "rotate_encryption_key")
    rotating = manage(env_with_key(worker, WRONG, CRYPTOGRAPHY_OLD_KEYS=right_key), "rotate_encryption_key")
    afterwards = manage(env_with_key(worker, WRONG), "run_destruction", "--dry-run")

    assert without_old.returncode != 0 and REFUSAL in without_old.stderr
    assert rotating.returncode == 0, rotating.stderr[-2000:]
    assert "privacy.EncryptionCanary (value): 1 rows, re-encrypted 1 values" in rotating.stdout
    assert afterwards.returncode == 0, afterwards.stderr[-2000:]  # the new key is now the right one
