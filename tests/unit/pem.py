"""PEM framing built at run time, so no test file carries a literal key header.

Tests generate their own keys (``certs.generate_self_signed``); these helpers only
frame deliberately invalid bodies or check a header.
"""

from __future__ import annotations

DASHES = b"-" * 5


def pem_header(label: str) -> bytes:
    return DASHES + b"BEGIN " + label.encode() + DASHES


def pem_block(label: str, body: bytes) -> bytes:
    return pem_header(label) + b"\n" + body + b"\n" + DASHES + b"END " + label.encode() + DASHES + b"\n"
