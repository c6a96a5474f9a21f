"""The API's JSON parser: DRF's, with a nesting limit and no NUL characters in any string.

A 2 KB body nested 1,000 levels deep exhausts the interpreter's recursion while parsing, and a NUL
in a string is refused by PostgreSQL mid-query: both would be 500s. Here they are 400
validation_error before any view sees them."""

import io
import re

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers

from medplatform.errors import ValidationFailed

MAX_DEPTH = 32
TOO_DEEP = _("The request body is nested too deeply.")
NULL_CHARACTER = _("Text must not contain null characters.")

# A JSON string (escapes included); brackets inside one do not nest anything. On UTF-8 bytes,
# quote, backslash and brackets never occur inside a multi-byte character.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in `raw` JSON (stops counting past `limit`)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def contains_null_character(data) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(contains_null_character(key) or contains_null_character(value) for key, value in data.items())
    if isinstance(data, list):
        return any(contains_null_character(item) for item in data)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        if nesting_depth(raw) > MAX_DEPTH:
            raise ValidationFailed(TOO_DEEP)
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if contains_null_character(data):
            raise ValidationFailed(NULL_CHARACTER)
        return data
