"""Encryption at rest for special-category and identifying data.

Every encrypted column uses `EncryptedTextField` / `EncryptedDateField` from here. They are
built on django-cryptography's `EncryptedMixin` (what its `encrypt()` returns), with two
changes the library's defaults get wrong for us:

- both the AES key and the HMAC signer key are derived from CRYPTOGRAPHY_KEY. The library signs
  with the raw SECRET_KEY, so rotating SECRET_KEY alone would make every value unreadable;
- values are stored as JSON, not pickled, so a stolen key can never become code execution;
- reading tries the current key first, then CRYPTOGRAPHY_OLD_KEYS, so a rotation can run while
  the site serves (see `manage.py rotate_encryption_key`).

Keyed hashes (`KeyedHashField`) sit beside encrypted columns for look-ups. They are written under
the current key; look-ups match the hashes under every configured key (`keyed_hashes`), so a row
hashed under an old key is still found until the rotation command has recomputed it.

Every derived key is computed once per process and key string: PBKDF2 with 100,000 rounds costs
tens of milliseconds, far too much for every booking or national-id write.
"""

import datetime
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf import pbkdf2
from django.conf import settings
from django.db import models
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.fields import EncryptedMixin
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

# Importing django-cryptography runs its AppConf, which overwrites settings.CRYPTOGRAPHY_KEY with
# its own PBKDF2 derivation (bytes). We derive our keys ourselves from the configured string, the
# same way for CRYPTOGRAPHY_KEY and CRYPTOGRAPHY_OLD_KEYS, so put the string back.
settings.CRYPTOGRAPHY_KEY = settings.CRYPTOGRAPHY_KEY_CONFIGURED


class DecryptionError(Exception):
    """A stored value does not decrypt with any configured key."""


@functools.lru_cache(maxsize=64)
def _derive(secret: str, purpose: str) -> bytes:
    """Cached per (key string, purpose): a settings change (a new key, a test's override) derives afresh."""
    kdf = pbkdf2.PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=f"medplatform:{purpose}".encode(), iterations=100_000
    )
    return kdf.derive(secret.encode())


@dataclass(frozen=True)
class _Key:
    fingerprint: str
    fernet: FernetBytes


@functools.lru_cache(maxsize=16)
def _key_for(secret: str) -> _Key:
    fernet = FernetBytes(key=_derive(secret, "aes-256-cbc"), signer=FernetSigner(key=_derive(secret, "hmac-sha256")))
    return _Key(fingerprint=hashlib.sha256(secret.encode()).hexdigest()[:12], fernet=fernet)


def current_key() -> _Key:
    return _key_for(settings.CRYPTOGRAPHY_KEY)


def configured_secrets() -> list[str]:
    """CRYPTOGRAPHY_KEY first, then each of CRYPTOGRAPHY_OLD_KEYS once."""
    return list(dict.fromkeys([settings.CRYPTOGRAPHY_KEY, *(old for old in settings.CRYPTOGRAPHY_OLD_KEYS if old)]))


def reading_keys() -> list[_Key]:
    return [_key_for(secret) for secret in configured_secrets()]


def encrypt_value(value: Any) -> bytes:
    return current_key().fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())


def decrypt_value(token: bytes) -> Any:
    """Decrypt with the current key or any old one; raise DecryptionError if none fits."""
    for key in reading_keys():
        try:
            return json.loads(key.fernet.decrypt(token))
        except (BadSignature, InvalidToken, ValueError):
            continue
    raise DecryptionError("stored value does not decrypt with CRYPTOGRAPHY_KEY or CRYPTOGRAPHY_OLD_KEYS")


def is_current(token: bytes) -> bool:
    """True when the token is already under the current key (rotation skips it)."""
    try:
        current_key().fernet.decrypt(token)
    except (BadSignature, InvalidToken, ValueError):
        return False
    return True


def _keyed_hash_under(secret: str, value: str, purpose: str) -> str:
    return hmac.new(_derive(secret, f"lookup:{purpose}"), value.encode(), hashlib.sha256).hexdigest()


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC for unique look-ups beside an encrypted column, under CRYPTOGRAPHY_KEY: what to store."""
    return _keyed_hash_under(settings.CRYPTOGRAPHY_KEY, value, purpose)


def keyed_hashes(value: str, *, purpose: str) -> list[str]:
    """The HMAC under every configured key, current first: what to look up while a rotation runs."""
    return [_keyed_hash_under(secret, value, purpose) for secret in configured_secrets()]


@dataclass(frozen=True)
class KeyedHash:
    """What a keyed-hash column holds, so that `rotate_encryption_key` can find and recompute it.

    `source` names the encrypted field of the same row that is hashed: the rotation recomputes the
    hash under the new key from it. With no source (a hash of something not stored, such as an
    idempotent request's body) the hash cannot be recomputed; `kept_for` then says how long such a
    row matters after its `created_at`, which is how long the old key must stay configured.
    """

    purpose: str
    source: str | None = None
    kept_for: datetime.timedelta | None = None


def keyed_hash_field(
    *, purpose: str, source: str | None = None, kept_for: datetime.timedelta | None = None, **options
) -> models.CharField:
    """A CharField holding `keyed_hash(..., purpose=purpose)`; migrations see a plain CharField."""
    if (source is None) == (kept_for is None):
        raise ValueError("a keyed-hash column needs either source (recomputable) or kept_for (not recomputable)")
    field = models.CharField(max_length=64, **options)
    field.keyed_hash = KeyedHash(purpose=purpose, source=source, kept_for=kept_for)
    return field


class _ProjectEncryptedMixin(EncryptedMixin):
    supported_lookups = ("isnull",)

    def __init__(self, *args, **kwargs):
        kwargs.pop("key", None)
        kwargs.pop("ttl", None)
        super().__init__(*args, **kwargs)

    def _dump(self, value: Any) -> bytes:
        return encrypt_value(self._to_json(value))

    def _load(self, value: bytes) -> Any:
        return self._from_json(decrypt_value(value))

    def _to_json(self, value: Any) -> Any:
        return value

    def _from_json(self, value: Any) -> Any:
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        return connection.Database.Binary(self._dump(self.to_python(value)))

    def deconstruct(self):
        name, path, args, kwargs = models.Field.deconstruct(self)
        return name, f"{self.__class__.__module__}.{self.__class__.__name__}", args, kwargs


class EncryptedTextField(_ProjectEncryptedMixin, models.TextField):
    base_class = models.TextField
    wasinstance = True

    def to_python(self, value):
        return value if value is None else str(value)


class EncryptedDateField(_ProjectEncryptedMixin, models.DateField):
    base_class = models.DateField
    wasinstance = True

    def _to_json(self, value: datetime.date) -> str:
        return value.isoformat()

    def _from_json(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def pre_save(self, model_instance, add):
        return getattr(model_instance, self.attname)
