"""Search keys: one normalised form of names, cities and specialties, stored beside them on write
and applied to the query, so matching ignores case, Turkish dotted/dotless i and accents on
PostgreSQL and SQLite alike with plain equality and `contains`."""

import unicodedata

# Turkish casing first (İ is the capital of i, I the capital of ı), then ı folds into i so that
# "Aydın", "AYDIN" and "aydin" meet.
_TURKISH_UPPER_I = str.maketrans({"İ": "i", "I": "ı"})


def search_key(text: str | None) -> str:
    """'İSTANBUL' -> 'istanbul', 'Aydın' -> 'aydin', 'Gülşen Öztürk' -> 'gulsen ozturk'."""
    lowered = (text or "").translate(_TURKISH_UPPER_I).lower().replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.split())


def with_search_keys(instance, update_fields, keys: dict[str, tuple[str, ...]]):
    """Set each key field from its source fields; when a save names update_fields that touch a
    source, the key joins them. Returns the update_fields to pass on."""
    touched = set(update_fields) if update_fields is not None else None
    for key_field, sources in keys.items():
        setattr(instance, key_field, search_key(" ".join(str(getattr(instance, name) or "") for name in sources)))
        if touched is not None and touched & set(sources):
            touched.add(key_field)
    return touched if touched is None else list(touched)
