"""Search normalisation that behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[^\w@.]+")


def normalise_search(*parts: object) -> str:
    """Lower-case, accent-free, single-spaced text: ``'Café  Noir'`` → ``'cafe noir'``.

    Stored in a search column and applied to the query, so ``LIKE`` needs neither
    ``ILIKE`` nor collations (which differ between SQLite and PostgreSQL).
    """
    text = " ".join(str(part) for part in parts if part not in (None, ""))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _SEPARATORS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
