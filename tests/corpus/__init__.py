"""Public API documents and payloads for the tests (``tests/corpus/<provider>/``): the
provenance of every file is in ``tests/corpus/SOURCES.md``."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parent


def samples(provider: str) -> Path:
    """``tests/corpus/<provider>/samples``."""
    return CORPUS / provider / "samples"


def spec(provider: str) -> Path:
    """The one Swagger/OpenAPI file of ``tests/corpus/<provider>/spec``."""
    (path,) = (CORPUS / provider / "spec").glob("*.json")
    return path
