"""Checks that must pass before a process touches data.

wsgi.py runs `verify()`, so gunicorn refuses to boot (rather than answering 500 at the first read)
when the encryption keys are wrong, a consent purpose has no withdrawal cascade or a model
holding personal data has no retention rule. The Celery
worker and beat run it from medplatform/celery.py (`verify_or_exit`), and management commands
that read or write data call `verify_for_command()` first.
"""

import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction

from medplatform.encryption import DecryptionError
from privacy.contract import missing_purposes, models_without_retention
from privacy.models import EncryptionCanary


class EncryptionKeyMismatch(ImproperlyConfigured):
    pass


def verify_encryption_canary() -> None:
    """Write the canary on first start; afterwards refuse to start if it does not decrypt."""
    try:
        with transaction.atomic():
            canary = EncryptionCanary.objects.order_by("id").first()
            if canary is None:
                EncryptionCanary.objects.create(value=EncryptionCanary.PLAINTEXT)
                return
    except DecryptionError:
        canary = None
    except DatabaseError:
        return  # not migrated yet: `migrate` runs first and the next start checks
    if canary is None or canary.value != EncryptionCanary.PLAINTEXT:
        raise EncryptionKeyMismatch(
            "Refusing to start: data in this database was encrypted with a key that is neither "
            "CRYPTOGRAPHY_KEY nor one of CRYPTOGRAPHY_OLD_KEYS. Set CRYPTOGRAPHY_KEY to the key the data "
            "was written with (or add it to CRYPTOGRAPHY_OLD_KEYS and run `manage.py rotate_encryption_key`). "
            "Do not change SECRET_KEY to fix this: it plays no part in encryption."
        )


def verify() -> None:
    missing = missing_purposes()
    if missing:
        raise ImproperlyConfigured(f"consent purposes without a withdrawal cascade: {', '.join(missing)}")
    uncovered = models_without_retention()
    if uncovered:
        raise ImproperlyConfigured(f"models holding personal data without a retention rule: {', '.join(uncovered)}")
    verify_encryption_canary()


def verify_for_command() -> None:
    """`verify()` for a management command: a refusal is a CommandError (its message, exit status 1)."""
    try:
        verify()
    except ImproperlyConfigured as refusal:
        raise CommandError(str(refusal)) from refusal


def verify_or_exit(process: str) -> None:
    """`verify()` for a process whose framework swallows exceptions (Celery signal handlers)."""
    try:
        verify()
    except ImproperlyConfigured as refusal:
        # The process's own stderr: Celery beat redirects sys.stderr into its logger.
        print(f"{process}: {type(refusal).__name__}: {refusal}", file=sys.__stderr__, flush=True)  # noqa: T201
        raise SystemExit(1) from refusal
