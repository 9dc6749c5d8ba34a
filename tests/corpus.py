"""The shared corpus (public Swagger files and real payloads): ``../shared/corpus`` beside
the checkout, as CI and the developers' guide lay it out."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def samples(provider: str) -> Path:
    """``../shared/corpus/<provider>/samples``; a clear error when the corpus is not beside
    the checkout (every sample must parse: the tests do not skip them)."""
    path = SHARED / "corpus" / provider / "samples"
    if not path.is_dir():
        raise FileNotFoundError(f"the shared corpus is not at {path}: put ../shared beside the checkout")
    return path
