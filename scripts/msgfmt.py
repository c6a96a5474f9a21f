#!/usr/bin/env python3
"""Compile gettext catalogues (.po -> .mo), with GNU msgfmt when it is installed, without otherwise.

    python3 scripts/msgfmt.py locale/tr/LC_MESSAGES/django.po [...]

With `msgfmt` on PATH this runs `msgfmt --check-format -o X.mo X.po`, byte for byte what the
committed .mo files are made with. On a machine without gettext it checks the format strings
itself and compares the catalogue with the committed .mo: when the .mo already holds exactly
these translations it is left as it is (only its time stamp renewed, so make sees it current);
otherwise it is rewritten by the writer below (same catalogue, without GNU's hash table).

Standard library only. The parser reads what Django's makemessages writes: comments, flags,
msgctxt, msgid, msgid_plural, msgstr and msgstr[N], with continuation lines. Like msgfmt, it
leaves out fuzzy entries (but keeps the header) and drops the header's POT-Creation-Date.
"""

import ast
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

_PYTHON_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_BRACE_FORMAT = re.compile(r"(?<!\{)\{([^{}:!]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


class PoError(Exception):
    pass


def parse(path: Path) -> list[dict]:
    """The entries of a .po file: {"ctxt", "id", "plural", "strs": {n: str}, "flags": set}."""
    entries: list[dict] = []
    entry: dict | None = None
    section = None

    def finish():
        nonlocal entry
        if entry is not None and "id" in entry:
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if entry is not None and "id" in entry and entry.get("strs"):
                finish()
            if entry is None:
                entry = {"flags": set(), "strs": {}}
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue  # other comments (references, #~ obsolete entries) carry no translation
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            keyword, rest = None, line
        elif keyword in ("msgctxt", "msgid") and entry is not None and entry.get("strs"):
            finish()
        if entry is None:
            entry = {"flags": set(), "strs": {}}
        try:
            text = ast.literal_eval(rest) if rest else ""
        except (ValueError, SyntaxError) as error:
            raise PoError(f"{path}:{number}: not a quoted string: {raw!r}") from error
        if not isinstance(text, str):
            raise PoError(f"{path}:{number}: not a string: {raw!r}")
        if keyword is None:
            if section is None:
                raise PoError(f"{path}:{number}: a continuation line outside an entry")
            kind, index = section
            if kind == "strs":
                entry["strs"][index] += text
            else:
                entry[kind] += text
            continue
        if keyword == "msgctxt":
            entry["ctxt"], section = text, ("ctxt", None)
        elif keyword == "msgid":
            entry["id"], section = text, ("id", None)
        elif keyword == "msgid_plural":
            entry["plural"], section = text, ("plural", None)
        elif keyword == "msgstr":
            entry["strs"][0], section = text, ("strs", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            entry["strs"][index], section = text, ("strs", index)
        else:
            raise PoError(f"{path}:{number}: unknown keyword {keyword!r}")
    finish()
    return entries


def _specs(text: str, flag: str) -> list:
    if flag == "python-format":
        found = [(m.group("name"), m.group("conv")) for m in _PYTHON_FORMAT.finditer(text) if m.group("conv") != "%"]
        return sorted(found, key=str) if any(name for name, _ in found) else found
    return sorted(_BRACE_FORMAT.findall(text))


def check_formats(path: Path, entries: list[dict]) -> list[str]:
    """What `msgfmt --check-format` would refuse: translations whose placeholders differ."""
    problems = []
    for entry in entries:
        if "fuzzy" in entry["flags"]:
            continue
        for flag in ("python-format", "python-brace-format"):
            if flag not in entry["flags"]:
                continue
            for index, translated in entry["strs"].items():
                source = entry["id"] if index == 0 or "plural" not in entry else entry["plural"]
                if translated and _specs(translated, flag) != _specs(source, flag):
                    problems.append(f"{path}: {flag} placeholders differ: {entry['id']!r} -> {translated!r}")
    return problems


def catalogue(entries: list[dict]) -> dict[str, str]:
    """msgid (with context and plural as in a .mo key) -> msgstr (plurals joined by NUL)."""
    messages = {}
    for entry in entries:
        if entry["id"] and "fuzzy" in entry["flags"]:
            continue
        strs = [entry["strs"].get(index, "") for index in range(max(entry["strs"], default=0) + 1)]
        if entry["id"] and not any(strs):
            continue  # untranslated: left out, as msgfmt does
        key = entry["id"]
        if "plural" in entry:
            key += "\0" + entry["plural"]
        if "ctxt" in entry:
            key = entry["ctxt"] + "\x04" + key
        value = "\0".join(strs)
        if key == "":
            value = "".join(
                line for line in value.splitlines(keepends=True) if not line.startswith("POT-Creation-Date:")
            )
        messages[key] = value
    return messages


def mo_bytes(messages: dict[str, str]) -> bytes:
    """A .mo file (little-endian, revision 0, no hash table), as CPython's Tools/i18n/msgfmt.py writes."""
    keys = sorted(messages, key=lambda key: key.encode("utf-8"))
    ids = b""
    strs = b""
    offsets = []
    for key in keys:
        encoded_id, encoded_str = key.encode("utf-8"), messages[key].encode("utf-8")
        offsets.append((len(ids), len(encoded_id), len(strs), len(encoded_str)))
        ids += encoded_id + b"\0"
        strs += encoded_str + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    key_table, value_table = [], []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, id_offset + key_start]
        value_table += [str_length, str_offset + value_start]
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    return (
        header
        + struct.pack(f"<{len(key_table)}I", *key_table)
        + struct.pack(f"<{len(value_table)}I", *value_table)
        + ids
        + strs
    )


def read_mo_entries(path: Path) -> dict[str, str] | None:
    """Every entry of a .mo file exactly as stored (plural keys and values joined by NUL, as
    catalogue() builds them), or None when it is missing or not a .mo file."""
    try:
        data = path.read_bytes()
        order = {0x950412DE: "<", 0xDE120495: ">"}[struct.unpack("<I", data[:4])[0]]
        _revision, count, keys_at, values_at = struct.unpack(f"{order}4I", data[4:20])
        entries = {}
        for index in range(count):
            key_length, key_offset = struct.unpack(f"{order}2I", data[keys_at + 8 * index : keys_at + 8 * index + 8])
            value_length, value_offset = struct.unpack(
                f"{order}2I", data[values_at + 8 * index : values_at + 8 * index + 8]
            )
            key = data[key_offset : key_offset + key_length].decode("utf-8")
            entries[key] = data[value_offset : value_offset + value_length].decode("utf-8")
        return entries
    except (OSError, KeyError, struct.error, UnicodeDecodeError):
        return None


def _without_header(messages: dict[str, str]) -> dict[str, str]:
    """Writers differ in the header (GNU msgfmt keeps fields the fallback drops); the
    translations, plurals included, are what must match."""
    return {key: value for key, value in messages.items() if key}


def compile_po(po: Path, use_msgfmt: bool | None = None) -> str:
    mo = po.with_suffix(".mo")
    if use_msgfmt is None:
        use_msgfmt = shutil.which("msgfmt") is not None
    if use_msgfmt:
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
        return "msgfmt"
    entries = parse(po)
    problems = check_formats(po, entries)
    if problems:
        raise PoError("\n".join(problems))
    messages = catalogue(entries)
    current = read_mo_entries(mo)
    if current is not None and _without_header(current) == _without_header(messages):
        os.utime(mo)
        return "current"
    mo.write_bytes(mo_bytes(messages))
    return "written"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        try:
            how = compile_po(Path(name))
        except (PoError, subprocess.CalledProcessError) as error:
            print(f"msgfmt.py: {error}", file=sys.stderr)
            return 1
        if how != "msgfmt":
            print(f"msgfmt.py: {name}: compiled without gettext ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
