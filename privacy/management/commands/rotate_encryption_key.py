"""Rotate the master key: re-wrap every person's data key under CRYPTOGRAPHY_KEY, and move any
value still under a master key directly (written before envelope encryption, or a column without
an owner such as the canary) to where it belongs.

Values of a column with an owner (`EncryptedTextField(owner=...)`) are under their owner's data key
(docs/encryption.md): a rotation re-wraps the data keys in `privacy.PatientDataKey` and never
rewrites those values. A value of such a column still under a master key (data from before
envelope encryption) is encrypted under its owner's data key instead, made on first use: running
this command once after the upgrade is the migration of existing rows.

Rotation, step by step:
  1. put the new key in CRYPTOGRAPHY_KEY and the old one in CRYPTOGRAPHY_OLD_KEYS, restart
     (the site keeps reading old values meanwhile);
  2. `manage.py rotate_encryption_key --dry-run`, then `manage.py rotate_encryption_key`;
  3. when it reports nothing left under an old key (and the time it names for hashes it cannot
     recompute has passed), drop CRYPTOGRAPHY_OLD_KEYS and restart.

The columns are found through the app registry (every EncryptedTextField / EncryptedDateField of
every model), so a new encrypted column is rotated without touching this command. Keyed-hash
columns (`keyed_hash_field(source=...)`, such as the national-id hash) are recomputed under the
new key from the decrypted source in the same batch, so look-ups by hash keep working; until
then look-ups match the hash under every configured key. Keyed hashes of data that is not stored
(`keyed_hash_field(kept_for=...)`, the idempotency body hashes) cannot be recomputed: the command
says until when the old keys must stay configured for them. Each batch is
its own transaction with its rows locked, and values already under the current key are skipped,
so an interrupted run is resumed by running the command again. Values are decrypted and
re-encrypted in memory only; nothing about them is printed.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from medplatform.encryption import (
    DataKeyDestroyed,
    DecryptionError,
    EncryptedDateField,
    EncryptedTextField,
    decrypt_any,
    encrypt_value,
    forget_data_keys,
    is_current,
    is_enveloped,
    keyed_hash,
    seal,
    unwrap_data_key,
    wrap_data_key,
    wrapped_under_current,
)
from privacy.data_keys import active_data_key
from privacy.models import PatientDataKey
from privacy.startup import verify_for_command


@dataclass
class Tally:
    rotated: int = 0
    current: int = 0
    undecryptable: int = 0
    rehashed: int = 0
    enveloped: int = 0  # moved from a master key to the owner's data key
    under_data_key: int = 0  # under a data key: left alone
    rows: int = 0
    failed_rows: list = field(default_factory=list)


def encrypted_columns() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every concrete model with encrypted columns, and those columns."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField | EncryptedDateField)]
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda item: item[0]._meta.label)


def keyed_hash_columns(model: type[models.Model]) -> list[models.Field]:
    """The model's keyed-hash columns (see `medplatform.encryption.keyed_hash_field`)."""
    return [f for f in model._meta.concrete_fields if getattr(f, "keyed_hash", None) is not None]


def unrecomputable_hashes() -> list[tuple[type[models.Model], models.Field]]:
    """Keyed-hash columns over data that is not stored: only the old keys still match them."""
    return [
        (model, f)
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        for f in keyed_hash_columns(model)
        if f.keyed_hash.source is None
    ]


def rotate_model(model, fields, *, batch_size: int, dry_run: bool, progress=None) -> Tally:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    hash_fields = [f for f in keyed_hash_columns(model) if f.keyed_hash.source is not None]
    sources = {f.keyed_hash.source for f in hash_fields}
    if not sources <= {f.name for f in fields}:
        raise CommandError(f"{model._meta.label}: a keyed hash's source must be an encrypted field of the model")
    columns = [quote(f.column) for f in fields]
    hash_columns = [quote(f.column) for f in hash_fields]
    owners = {f.name: _owner_column(model, f) for f in fields}
    owner_columns = sorted({column for column in owners.values() if column not in (None, "self")})
    lock = " FOR UPDATE" if connection.features.has_select_for_update and not dry_run else ""
    tally = Tally()
    last_pk = None
    while True:
        with transaction.atomic():
            where = f" WHERE {pk} > %s" if last_pk is not None else ""
            selected = ", ".join([*columns, *hash_columns, *owner_columns])
            sql = f"SELECT {pk}, {selected} FROM {table}{where} ORDER BY {pk} LIMIT %s{lock}"  # noqa: S608
            with connection.cursor() as cursor:
                cursor.execute(sql, [last_pk, batch_size] if last_pk is not None else [batch_size])
                rows = cursor.fetchall()
                for row_pk, *values in rows:
                    changes = {}
                    plains = {}
                    stored_hashes = values[len(columns) : len(columns) + len(hash_columns)]
                    owner_values = dict(zip(owner_columns, values[len(columns) + len(hash_columns) :], strict=True))
                    for f, column, value in zip(fields, columns, values[: len(columns)], strict=True):
                        if value is None:
                            continue
                        token = bytes(value)
                        owner_id = row_pk if owners[f.name] == "self" else owner_values.get(owners[f.name])
                        enveloped = is_enveloped(token)
                        current = enveloped or (owner_id is None and is_current(token))
                        if current and f.name not in sources:
                            tally.under_data_key += enveloped
                            tally.current += not enveloped
                            continue
                        try:
                            plains[f.name] = decrypt_any(token)
                        except DataKeyDestroyed:
                            tally.under_data_key += 1  # crypto-shredded: nothing to rotate or hash
                            continue
                        except DecryptionError:
                            tally.undecryptable += 1
                            tally.failed_rows.append(str(row_pk))
                            continue
                        if enveloped:
                            tally.under_data_key += 1
                        elif current:
                            tally.current += 1
                        elif owner_id is not None:
                            tally.enveloped += 1
                            if not dry_run:
                                key_id, data_key = active_data_key(owner_id, f.key_scope)
                                sealed = seal(key_id, data_key, plains[f.name])
                                changes[column] = connection.Database.Binary(sealed)
                        else:
                            tally.rotated += 1
                            changes[column] = connection.Database.Binary(encrypt_value(plains[f.name]))
                    # Recomputed whether or not the source was re-encrypted: rows rotated by an
                    # earlier version of this command kept their old-key hashes.
                    for f, column, stored in zip(hash_fields, hash_columns, stored_hashes, strict=True):
                        plain = plains.get(f.keyed_hash.source)
                        if plain is None:
                            continue
                        fresh = keyed_hash(str(plain), purpose=f.keyed_hash.purpose)
                        if fresh != stored:
                            tally.rehashed += 1
                            changes[column] = fresh
                    if changes and not dry_run:
                        assignments = ", ".join(f"{column} = %s" for column in changes)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                            [*changes.values(), row_pk],
                        )
        if not rows:
            return tally
        tally.rows += len(rows)
        last_pk = rows[-1][0]
        if progress is not None:
            progress(model, tally, last_pk)


def _owner_column(model, f) -> str | None:
    """The column naming the owner of an owned encrypted field ("self" for the row's own id)."""
    if getattr(f, "owner", None) is None:
        return None
    if f.owner == "self":
        return "self"
    return connection.ops.quote_name(model._meta.get_field(f.owner).column)


@dataclass
class KeyTally:
    rewrapped: int = 0
    current: int = 0
    undecryptable: int = 0
    destroyed: int = 0
    failed: list = field(default_factory=list)


def rewrap_data_keys(*, batch_size: int, dry_run: bool) -> KeyTally:
    """Re-wrap every live data key still wrapped under an old master key; one batch per transaction."""
    tally = KeyTally()
    rewrapped = []
    tally.destroyed = PatientDataKey.objects.filter(destroyed_at__isnull=False).count()
    last_pk = None
    while True:
        with transaction.atomic():
            keys = PatientDataKey.objects.filter(destroyed_at__isnull=True).order_by("pk")
            if last_pk is not None:
                keys = keys.filter(pk__gt=last_pk)
            if not dry_run:
                keys = keys.select_for_update()
            batch = list(keys.values_list("pk", "wrapped_key")[:batch_size])
            for key_id, wrapped in batch:
                wrapped = bytes(wrapped)
                if wrapped_under_current(key_id, wrapped):
                    tally.current += 1
                    continue
                try:
                    data_key = unwrap_data_key(key_id, wrapped)
                except DecryptionError:
                    tally.undecryptable += 1
                    tally.failed.append(str(key_id))
                    continue
                tally.rewrapped += 1
                if not dry_run:
                    PatientDataKey.objects.filter(pk=key_id).update(wrapped_key=wrap_data_key(key_id, data_key))
                    rewrapped.append(key_id)
        # This process forgets what it unwrapped under the old configuration.
        forget_data_keys(rewrapped)
        if not batch:
            return tally
        last_pk = batch[-1][0]


class Command(BaseCommand):
    help = (
        "Re-wrap every data key, and re-encrypt values still under a master key, from CRYPTOGRAPHY_OLD_KEYS "
        "to CRYPTOGRAPHY_KEY (resumable)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        verify_for_command()
        started = timezone.now()
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        rehash_verb = "would recompute" if dry_run else "recomputed"
        totals = Tally()
        keys = rewrap_data_keys(batch_size=batch_size, dry_run=dry_run)
        self.stdout.write(
            f"data keys: {'would re-wrap' if dry_run else 're-wrapped'} {keys.rewrapped}, {keys.current} already "
            f"current, {keys.undecryptable} undecryptable, {keys.destroyed} destroyed"
        )
        if keys.failed:
            self.stderr.write(f"  data keys that unwrap with no configured key: {', '.join(keys.failed[:20])}")

        def progress(model, tally, last_pk):
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {model._meta.label}: {tally.rows} rows done, last id {last_pk}")

        for model, fields in encrypted_columns():
            tally = rotate_model(model, fields, batch_size=batch_size, dry_run=dry_run, progress=progress)
            hashes = [f.name for f in keyed_hash_columns(model) if f.keyed_hash.source is not None]
            self.stdout.write(
                f"{model._meta.label} ({', '.join(f.name for f in fields)}): {tally.rows} rows, "
                f"{verb} {tally.rotated} values, {tally.current} already current, "
                f"{tally.undecryptable} undecryptable, {tally.under_data_key} under data keys (untouched), "
                f"{'would move' if dry_run else 'moved'} {tally.enveloped} under data keys"
                + (f"; {rehash_verb} {tally.rehashed} keyed hashes ({', '.join(hashes)})" if hashes else "")
            )
            if tally.failed_rows:
                self.stderr.write(f"  rows with undecryptable values: {', '.join(tally.failed_rows[:20])}")
            totals.rotated += tally.rotated
            totals.current += tally.current
            totals.undecryptable += tally.undecryptable
            totals.rehashed += tally.rehashed
            totals.enveloped += tally.enveloped
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{verb} {totals.rotated} values; {totals.current} already current; "
            f"{totals.undecryptable} undecryptable."
        )
        self.stdout.write(
            f"{'would move' if dry_run else 'moved'} {totals.enveloped} values from a master key "
            "to their owner's data key."
        )
        self.stdout.write(f"{rehash_verb} {totals.rehashed} keyed hashes under CRYPTOGRAPHY_KEY.")
        self._report_unrecomputable(started)
        if keys.undecryptable:
            raise CommandError(
                f"{keys.undecryptable} data keys unwrap with neither CRYPTOGRAPHY_KEY nor CRYPTOGRAPHY_OLD_KEYS: "
                "add the key they were wrapped with to CRYPTOGRAPHY_OLD_KEYS and run again."
            )
        if totals.undecryptable:
            raise CommandError(
                f"{totals.undecryptable} values decrypt with neither CRYPTOGRAPHY_KEY nor CRYPTOGRAPHY_OLD_KEYS: "
                "add the key they were written with to CRYPTOGRAPHY_OLD_KEYS and run again. Keep the old keys "
                "until this command reports 0 undecryptable."
            )

    def _report_unrecomputable(self, started) -> None:
        for model, hash_field in unrecomputable_hashes():
            kept_for = hash_field.keyed_hash.kept_for
            live = model._default_manager.filter(created_at__gte=started - kept_for, created_at__lt=started)
            summary = live.aggregate(newest=Max("created_at"))
            if summary["newest"] is None:
                continue
            self.stdout.write(
                f"{model._meta.label} ({hash_field.name}): {live.count()} keyed hashes of data that is not stored "
                "cannot be recomputed; they still match under CRYPTOGRAPHY_OLD_KEYS, so keep the old keys until "
                f"{summary['newest'] + kept_for:%Y-%m-%d %H:%M} UTC."
            )
