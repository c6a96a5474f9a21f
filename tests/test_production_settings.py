"""Production settings refuse e-mail backends that keep messages where logs or files are read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_production_settings(email_backend: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MEDPLATFORM_ENV": "production",
        "SECRET_KEY": "k" * 50,
        "CRYPTOGRAPHY_KEY": "c" * 50,
        "EMAIL_BACKEND": email_backend,
    }
    return subprocess.run(
        [sys.executable, "-c", "import medplatform.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem"])
def test_production_refuses_to_start_with_an_e_mail_backend_that_keeps_messages(backend):
    result = load_production_settings(f"django.core.mail.backends.{backend}.EmailBackend")

    assert result.returncode != 0
    assert "ImproperlyConfigured: Refusing to start in production with EMAIL_BACKEND=" in result.stderr
    assert "smtp.EmailBackend" in result.stderr


def test_production_starts_with_smtp():
    result = load_production_settings("django.core.mail.backends.smtp.EmailBackend")

    assert result.returncode == 0, result.stderr
