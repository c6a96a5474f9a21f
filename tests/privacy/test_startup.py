"""A wrong CRYPTOGRAPHY_KEY stops the platform at start-up with a message that says what to do,
instead of a 500 at the first read of encrypted data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from medplatform.encryption import DecryptionError
from privacy.models import EncryptionCanary
from privacy.startup import EncryptionKeyMismatch, verify, verify_encryption_canary
from tests.health_profiles.scenario import full_profile

pytestmark = pytest.mark.django_db

WRONG = "not-the-key-the-data-was-written-with-0123456789"


def test_the_first_start_writes_the_canary_and_later_starts_pass():
    EncryptionCanary.objects.all().delete()

    verify()
    verify()

    assert EncryptionCanary.objects.get().value == EncryptionCanary.PLAINTEXT


def test_a_wrong_key_is_refused_at_start_up_with_instructions(patient_ayse):
    full_profile(patient_ayse)
    verify_encryption_canary()

    with override_settings(CRYPTOGRAPHY_KEY=WRONG), pytest.raises(EncryptionKeyMismatch) as refusal:
        verify()

    message = str(refusal.value)
    assert "Refusing to start" in message
    assert "CRYPTOGRAPHY_OLD_KEYS" in message and "rotate_encryption_key" in message
    assert "SECRET_KEY" in message


def test_the_old_key_among_the_old_keys_starts_during_a_rotation():
    verify_encryption_canary()

    with override_settings(CRYPTOGRAPHY_KEY=WRONG, CRYPTOGRAPHY_OLD_KEYS=[settings.CRYPTOGRAPHY_KEY]):
        verify()


def test_without_the_check_the_wrong_key_would_fail_at_the_first_read(patient_ayse):
    from health_profiles.models import HealthEntry

    full_profile(patient_ayse)

    with override_settings(CRYPTOGRAPHY_KEY=WRONG), pytest.raises(DecryptionError):
        list(HealthEntry.objects.all())


def run_wsgi(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import medplatform.wsgi"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_wsgi_application_with_a_wrong_key_refuses_to_start(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME", "REDIS_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}",
        "MEDPLATFORM_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "startup-test-secret-key-0123456789abcdefghijkl",
        "CRYPTOGRAPHY_KEY": "startup-test-right-key-0123456789abcdefghijkl",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--skip-checks", "-v", "0"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]

    first = run_wsgi(env)  # writes the canary with the right key
    again = run_wsgi(env)
    wrong = run_wsgi({**env, "CRYPTOGRAPHY_KEY": WRONG})
    rotating = run_wsgi({**env, "CRYPTOGRAPHY_KEY": WRONG, "CRYPTOGRAPHY_OLD_KEYS": env["CRYPTOGRAPHY_KEY"]})

    assert (first.returncode, again.returncode) == (0, 0), first.stderr[-2000:]
    assert wrong.returncode != 0
    assert "EncryptionKeyMismatch" in wrong.stderr and "Refusing to start" in wrong.stderr
    assert rotating.returncode == 0, rotating.stderr[-2000:]
