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

Envelope encryption (crypto-shredding, docs/encryption.md): a field declared with
`owner="<foreign key to the user>"` (or `owner="self"` on the user model) stores its values under
that person's own random data key (AES-256-GCM), not under CRYPTOGRAPHY_KEY. The data keys live in
`privacy.PatientDataKey`, each wrapped (AES-256-GCM) by a key derived from CRYPTOGRAPHY_KEY. Destroying
a person's data key row makes every copy of their values unreadable, backups included; a master-key
rotation re-wraps the data keys and leaves the values alone. Such a value is stored as
`dk1:<data key id (16 bytes)><nonce (12 bytes)><ciphertext>`; values written before (under the master
key directly) still read, and `rotate_encryption_key` moves them under the data keys.
"""

import datetime
import functools
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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


class DataKeyDestroyed(DecryptionError):
    """The value was under a data key that has been destroyed (crypto-shredded)."""


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
    return list(_secrets_now())


def _secrets_now() -> tuple[str, ...]:
    return _secrets(settings.CRYPTOGRAPHY_KEY, tuple(settings.CRYPTOGRAPHY_OLD_KEYS))


@functools.lru_cache(maxsize=16)
def _secrets(current: str, old: tuple[str, ...]) -> tuple[str, ...]:
    # Called for every value read (it is part of the unwrapped-key cache's key), so computed once
    # per configuration; a settings change (a rotation, a test's override) gives a new tuple.
    return tuple(dict.fromkeys([current, *(secret for secret in old if secret)]))


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


# --- envelope encryption: per-person data keys wrapped by the master key ---

ENVELOPE_PREFIX = b"dk1:"
_KEY_ID_LENGTH = 16  # uuid bytes
_NONCE = 12


def _wrapping_key(secret: str) -> AESGCM:
    return AESGCM(_derive(secret, "data-key-wrap"))


def wrap_data_key(key_id: uuid.UUID, data_key: bytes) -> bytes:
    """The data key encrypted under CRYPTOGRAPHY_KEY (AES-256-GCM, the key id as associated data)."""
    nonce = os.urandom(_NONCE)
    return nonce + _wrapping_key(settings.CRYPTOGRAPHY_KEY).encrypt(nonce, data_key, key_id.hex.encode())


def _unwrap_under(secret: str, key_id: uuid.UUID, wrapped: bytes) -> bytes:
    wrapped = bytes(wrapped)
    return _wrapping_key(secret).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], key_id.hex.encode())


def unwrap_data_key(key_id: uuid.UUID, wrapped: bytes) -> bytes:
    """Unwrap with CRYPTOGRAPHY_KEY or any of CRYPTOGRAPHY_OLD_KEYS; DecryptionError if none fits."""
    for secret in configured_secrets():
        try:
            return _unwrap_under(secret, key_id, wrapped)
        except (InvalidTag, ValueError):
            continue
    raise DecryptionError("a data key does not unwrap with CRYPTOGRAPHY_KEY or CRYPTOGRAPHY_OLD_KEYS")


def wrapped_under_current(key_id: uuid.UUID, wrapped: bytes) -> bool:
    try:
        _unwrap_under(settings.CRYPTOGRAPHY_KEY, key_id, wrapped)
    except (InvalidTag, ValueError):
        return False
    return True


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def is_enveloped(token: bytes) -> bool:
    return bytes(token[: len(ENVELOPE_PREFIX)]) == ENVELOPE_PREFIX


def envelope_key_id(token: bytes) -> uuid.UUID:
    start = len(ENVELOPE_PREFIX)
    return uuid.UUID(bytes=bytes(token[start : start + _KEY_ID_LENGTH]))


def seal(key_id: uuid.UUID, data_key: bytes, value: Any) -> bytes:
    """A value under a data key: prefix, key id, nonce, AES-256-GCM ciphertext (prefix and id authenticated)."""
    header = ENVELOPE_PREFIX + key_id.bytes
    nonce = os.urandom(_NONCE)
    plain = json.dumps(value, separators=(",", ":")).encode()
    return header + nonce + AESGCM(data_key).encrypt(nonce, plain, header)


_HEADER = len(ENVELOPE_PREFIX) + _KEY_ID_LENGTH


def open_sealed(token: bytes, data_key: bytes) -> Any:
    return _open_with(AESGCM(data_key), bytes(token))


def _open_with(cipher: AESGCM, token: bytes) -> Any:
    try:
        plain = cipher.decrypt(token[_HEADER : _HEADER + _NONCE], token[_HEADER + _NONCE :], token[:_HEADER])
        return _from_plain(plain)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("a value does not decrypt with its data key") from exc


def _from_plain(plain: bytes) -> Any:
    """The JSON value `seal` wrote. Most are strings without an escape (json.dumps escapes every
    quote, backslash, control and non-ASCII character): those are read without the json module's
    machinery, which costs more than the decryption itself."""
    if len(plain) >= 2 and plain[0] == plain[-1] == 0x22 and b"\\" not in plain:
        return plain[1:-1].decode("ascii")
    return json.loads(plain)


# Unwrapped data keys, per process: {(key id as the 16 bytes every value under it carries,
# configured master keys): (AES-GCM cipher of the data key, valid until)}: a key is unwrapped once
# and its cipher object made once, then serves every value under it (a doctor's read of a 50-entry
# profile decrypts about 190; keyed by the raw bytes so that no UUID is built per value). A key
# destroyed by this process is dropped at once; one destroyed by another process is forgotten here
# after DATA_KEY_CACHE_SECONDS at the latest (the destroying transaction deletes or nulls the values
# themselves, so this only bounds how long a running process could still read a leftover).
_unwrapped: dict[tuple[bytes, tuple[str, ...]], tuple[AESGCM, float]] = {}


def remember_data_key(key_id: uuid.UUID, data_key: bytes) -> AESGCM:
    """Keep the unwrapped key's cipher for DATA_KEY_CACHE_SECONDS (not at all with 0); returns it."""
    cipher = AESGCM(data_key)
    ttl = float(getattr(settings, "DATA_KEY_CACHE_SECONDS", 60))
    if ttl > 0:
        _unwrapped[(key_id.bytes, _secrets_now())] = (cipher, time.monotonic() + ttl)
    return cipher


def forget_data_keys(key_ids) -> None:
    forget = {key_id.bytes for key_id in key_ids}
    for cached in [cached for cached in _unwrapped if cached[0] in forget]:
        _unwrapped.pop(cached, None)


def _key_store():
    # privacy.data_keys holds the table; imported late (privacy's models import this module).
    from privacy import data_keys

    return data_keys


def open_envelope(token: bytes) -> Any:
    """Decrypt a value under a data key, with the data keys of the live database.

    Raises DataKeyDestroyed when that key was destroyed (or never existed here: a value restored
    from a backup after its owner's erasure) and DecryptionError when it does not unwrap."""
    token = bytes(token)
    cached = (token[len(ENVELOPE_PREFIX) : _HEADER], _secrets_now())
    found = _unwrapped.get(cached)
    if found is not None and time.monotonic() <= found[1]:
        return _open_with(found[0], token)
    _unwrapped.pop(cached, None)
    key_id = uuid.UUID(bytes=cached[0])
    return _open_with(remember_data_key(key_id, _key_store().unwrapped_data_key(key_id)), token)


def decrypt_any(token: bytes) -> Any:
    """A stored value of any encrypted column, enveloped or under the master key."""
    return open_envelope(token) if is_enveloped(token) else decrypt_value(token)


class Sealed(bytes):
    """A value already encrypted under its owner's data key (what `pre_save` hands on to the database)."""


class _ProjectEncryptedMixin(EncryptedMixin):
    supported_lookups = ("isnull",)

    def __init__(self, *args, owner: str | None = None, key_scope: str = "account", **kwargs):
        kwargs.pop("key", None)
        kwargs.pop("ttl", None)
        # owner: the foreign key naming the person whose data key encrypts this column ("self" on
        # the user model); key_scope: which of that person's keys (see privacy.data_keys.SCOPES).
        self.owner = owner
        self.key_scope = key_scope
        super().__init__(*args, **kwargs)

    def owner_id(self, instance) -> Any:
        if self.owner is None:
            return None
        if self.owner == "self":
            return instance.pk
        return getattr(instance, instance._meta.get_field(self.owner).attname)

    def _dump(self, value: Any) -> bytes:
        return encrypt_value(self._to_json(value))

    def from_db_value(self, value, expression, connection) -> Any:
        # Called for every encrypted column of every row read (a 50-entry profile: 450 times).
        return None if value is None else self._load(value if type(value) is bytes else bytes(value))

    def _load(self, value: bytes) -> Any:
        if value.startswith(ENVELOPE_PREFIX):
            try:
                return self._from_json(open_envelope(value))
            except DataKeyDestroyed:
                # Crypto-shredded: the owner's key is gone, so is the value.
                return None if self.null else self.get_default()
        return self._from_json(decrypt_value(value))

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        owner_id = self.owner_id(model_instance)
        if value is None or owner_id is None:
            return value
        memo = model_instance.__dict__.setdefault("_data_keys", {})
        if (owner_id, self.key_scope) not in memo:
            memo[(owner_id, self.key_scope)] = _key_store().active_data_key(owner_id, self.key_scope)
        key_id, data_key = memo[(owner_id, self.key_scope)]
        return Sealed(seal(key_id, data_key, self._to_json(self.to_python(value))))

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if self.owner is not None and not cls._meta.abstract:
            from django.db.models.signals import post_save, pre_save

            # The data key looked up for one save serves every owned column of that save only, and
            # never stays on the instance (which may be pickled or cached) after it.
            uid = f"data-keys-{cls._meta.label}"
            pre_save.connect(_forget_save_keys, sender=cls, weak=False, dispatch_uid=uid)
            post_save.connect(_forget_save_keys, sender=cls, weak=False, dispatch_uid=uid)

    def _to_json(self, value: Any) -> Any:
        return value

    def _from_json(self, value: Any) -> Any:
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if isinstance(value, Sealed):
            return connection.Database.Binary(bytes(value))
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
        return _ProjectEncryptedMixin.pre_save(self, model_instance, add)


def _forget_save_keys(sender, instance, **kwargs) -> None:
    instance.__dict__.pop("_data_keys", None)
