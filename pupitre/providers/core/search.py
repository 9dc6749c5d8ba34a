"""One way to compare what an operator types in a search with what is shown: case-, accent-
and space-insensitive (``realisee`` finds ``Réalisée``, ``gi 123 456`` finds ``GI123456``,
``oeuvre`` finds ``Œuvre``). Every search of the dashboard goes through :func:`search_key`
on both sides (ADICT rights, Requests, the Flexibility filter…).
"""

from __future__ import annotations

import unicodedata

#: Letters NFKD does not split, and typographic quotes/dashes that read as their plain forms.
_PLAIN = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'", "–": "-", "—": "-"}


class _Folding(dict[int, str]):
    """``str.translate`` table, filled on first sight of each character: its folded form."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", _PLAIN.get(char, char))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        folded = "".join(folded.split())  # every kind of space goes
        self[code] = folded
        return folded


_FOLDING = _Folding()


def search_key(text: str) -> str:
    """``text`` folded for searching: no case, no accents, no spaces (of any kind)."""
    if text.isascii():
        return "".join(text.casefold().split())
    return text.translate(_FOLDING)


def matches(query: str, *fields: str) -> bool:
    """Does the typed ``query`` occur in one of ``fields`` (both folded)? Empty: yes."""
    needle = search_key(query)
    return not needle or any(needle in search_key(field) for field in fields)
