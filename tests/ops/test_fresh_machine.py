"""What makes the README's two commands work on a fresh machine: the private services of the
real-services run (scripts/with_services.py) and translations compiled without gettext
(scripts/msgfmt.py)."""

import gettext
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import msgfmt  # noqa: E402

PO = ROOT / "locale" / "tr" / "LC_MESSAGES" / "django.po"
WITH_SERVICES = [sys.executable, str(ROOT / "scripts" / "with_services.py")]


def _catalog(mo: bytes) -> dict:
    return gettext.GNUTranslations(io.BytesIO(mo))._catalog


# --- translations without gettext ------------------------------------------------------------------


def test_the_fallback_reads_the_catalogue_the_committed_mo_holds():
    messages = msgfmt.catalogue(msgfmt.parse(PO))

    assert _catalog(msgfmt.mo_bytes(messages)) == _catalog(PO.with_suffix(".mo").read_bytes())
    assert msgfmt.check_formats(PO, msgfmt.parse(PO)) == []


def test_without_msgfmt_a_current_mo_keeps_its_bytes(tmp_path):
    po, mo = tmp_path / "django.po", tmp_path / "django.mo"
    shutil.copy(PO, po)
    shutil.copy(PO.with_suffix(".mo"), mo)
    before = mo.read_bytes()

    assert msgfmt.compile_po(po, use_msgfmt=False) == "current"
    assert mo.read_bytes() == before


def test_without_msgfmt_a_changed_catalogue_is_compiled(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO.read_text().replace('msgstr "Hasta"', 'msgstr "Danışan"', 1))
    shutil.copy(PO.with_suffix(".mo"), tmp_path / "django.mo")

    assert msgfmt.compile_po(po, use_msgfmt=False) == "written"
    translations = gettext.GNUTranslations(io.BytesIO((tmp_path / "django.mo").read_bytes()))
    assert translations.gettext("Patient") == "Danışan"


def test_without_msgfmt_mismatched_placeholders_are_refused(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-format\nmsgid "Hello %(name)s"\nmsgstr "Merhaba %(isim)s"\n'
    )

    with pytest.raises(msgfmt.PoError, match="placeholders differ"):
        msgfmt.compile_po(po, use_msgfmt=False)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt is not installed")
def test_the_fallback_agrees_with_gnu_msgfmt(tmp_path):
    subprocess.run(["msgfmt", "-o", str(tmp_path / "gnu.mo"), str(PO)], check=True)

    assert _catalog(msgfmt.mo_bytes(msgfmt.catalogue(msgfmt.parse(PO)))) == _catalog((tmp_path / "gnu.mo").read_bytes())


# --- the private services ---------------------------------------------------------------------------


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    return {**env, **extra}


def test_explicit_urls_take_precedence_and_start_nothing():
    result = subprocess.run(
        [
            *WITH_SERVICES,
            "--",
            sys.executable,
            "-c",
            "import os; print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'])",
        ],
        env=_clean_env(DATABASE_URL="postgres://given@db.invalid/x", REDIS_URL="redis://cache.invalid/3"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgres://given@db.invalid/x", "redis://cache.invalid/3"]
    assert tempfile.gettempdir() not in result.stderr  # no private directory was made


def test_the_command_exit_code_is_kept():
    result = subprocess.run(
        [*WITH_SERVICES, sys.executable, "-c", "raise SystemExit(5)"],
        env=_clean_env(DATABASE_URL="postgres://given@db.invalid/x", REDIS_URL="redis://cache.invalid/3"),
        timeout=60,
        check=False,
    )

    assert result.returncode == 5  # pytest's "no tests collected" must reach make


_PROBE = """
import os, psycopg, redis
with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=30) as conn:
    print(conn.execute("SHOW port").fetchone()[0])
client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=30)
client.set("probe", "1")
print(client.connection_pool.connection_kwargs["port"])
"""


@pytest.mark.skipif(
    not (shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")) or not shutil.which("redis-server"),
    reason="PostgreSQL or Redis server binaries are not installed (make test-services installs them)",
)
def test_private_services_answer_on_free_ports_and_are_removed_afterwards():
    result = subprocess.run(
        [*WITH_SERVICES, "--", sys.executable, "-c", _PROBE],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    pg_port, redis_port = (int(port) for port in result.stdout.split())
    assert pg_port != 5432 and redis_port != 6379
    [private_dir] = re.findall(r"\((?:[0-9.]+ s); (\S+medplatform-services-\S+)\)", result.stderr)
    assert not os.path.exists(private_dir)
    for port in (pg_port, redis_port):  # nothing listens there any more
        probe = subprocess.run(
            [sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert probe.returncode != 0
