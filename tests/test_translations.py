"""Every user-facing message has a Turkish translation, and the compiled catalogue is current."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "tr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(po_text: str) -> dict[str, str]:
    """msgid -> msgstr for the single-line entries (the catalogue is written with --no-wrap)."""
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', po_text, re.M)
    return {msgid: msgstr for msgid, msgstr in pairs if msgid}


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} (Debian package gettext) is missing")
        pytest.skip(f"{tool} is not installed")


def test_every_message_in_the_catalogue_is_translated():
    text = PO.read_text()
    entries = _entries(text)

    assert len(entries) > 100
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in text.split("\n\n", 1)[1]


def test_the_catalogue_holds_every_message_in_the_code(tmp_path):
    _need("xgettext")
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "staticfiles", "tests", "bench", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "tr", "--no-wrap", "--ignore=staticfiles"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "MEDPLATFORM_VAR_DIR": str(tmp_path / "var")},
    )
    extracted = _entries((copy / "locale" / "tr" / "LC_MESSAGES" / "django.po").read_text())

    assert sorted(set(extracted) - set(_entries(PO.read_text()))) == []


def test_the_compiled_catalogue_matches_the_source(tmp_path):
    _need("msgfmt")
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PO)], check=True)

    assert compiled.read_bytes() == MO.read_bytes(), "run: msgfmt -o locale/tr/LC_MESSAGES/django.mo <the .po>"
