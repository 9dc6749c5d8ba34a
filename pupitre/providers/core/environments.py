"""Environments: the data world a provider's stored rows belong to.

Every stored row (snapshots, history, outbox, audit, quota counters, watch-lists) belongs to
one environment: the simulator (``sandbox``) or one real endpoint — a base URL plus the
credential's *non-secret* identity (a client id, a CDG-F code; never a secret nor a hash of
one). Token-only providers (EDF OA, Switchgrid) are told apart by their base URL, and
Switchgrid's test environment (``test_env``) is a data world of its own.

Rows written before environments existed are ``unattributed``: nobody reads them
automatically, and their pending actions are *held* until the operator releases or drops them
(``pupitre outbox``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

SANDBOX = "sandbox"
UNATTRIBUTED = "unattributed"


class Environment(msgspec.Struct, frozen=True):
    """``id`` is what the store keeps in its ``env`` columns; ``label`` is for people."""

    id: str
    label: str

    @property
    def sandboxed(self) -> bool:
        return self.id == SANDBOX


SANDBOX_ENVIRONMENT = Environment(SANDBOX, "sandbox")


def real(base_url: str, **identity: str) -> Environment:
    """A real endpoint: ``base_url`` plus the non-secret identity (``client="okta-123"``),
    e.g. id ``https://api.grdf.fr/fournisseur#client=okta-123,cdgf=X`` and label
    ``api.grdf.fr · client okta-123 · cdgf X``. Empty identity parts are left out."""
    base = base_url.rstrip("/")
    parts = [(name, value) for name, value in identity.items() if value]
    env_id = base + ("#" + ",".join(f"{name}={value}" for name, value in parts) if parts else "")
    host = urlsplit(base).netloc or base
    label = " · ".join([host, *(f"{name.replace('_', ' ')} {value}" for name, value in parts)])
    return Environment(env_id, label)


def label_of(env_id: str) -> str:
    """A readable label of a stored ``env`` value (the store keeps ids only)."""
    if env_id in (SANDBOX, UNATTRIBUTED):
        return "before environments (unattributed)" if env_id == UNATTRIBUTED else env_id
    base, _, identity = env_id.partition("#")
    parts = dict(part.split("=", 1) for part in identity.split(",") if "=" in part)
    return real(base, **parts).label
