"""One way to compare what an operator types in a search with what is shown: case-, accent-
and space-insensitive (``realisee`` finds ``Réalisée``, ``gi 123 456`` finds ``GI123456``,
``oeuvre`` finds ``Œuvre``). Every search of the dashboard goes through :func:`search_key`
on both sides (ADICT rights, Requests, the Flexibility filter…).
"""

from __future__ import annotations

import unicodedata

#: Letters NFKD does not split, and typographic quotes/dashes that read as their plain forms.
_PLAIN = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'", "‘": "'", "–": "-", "—": "-"})


def search_key(text: str) -> str:
    """``text`` folded for searching: no case, no accents, no spaces (of any kind)."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.translate(_PLAIN))
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(text.casefold().split())


def matches(query: str, *fields: str) -> bool:
    """Does the typed ``query`` occur in one of ``fields`` (both folded)? Empty: yes."""
    needle = search_key(query)
    return not needle or any(needle in search_key(field) for field in fields)
