"""Shared by the provider-vs-simulator tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Callable

import httpx

from pupitre.providers.core.auth import JwtAssertionCredentials
from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_adict.client import AdictClient, adict_auth
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_ID as ADICT_CLIENT_ID
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_SECRET as ADICT_CLIENT_SECRET
from pupitre.providers.grdf_adict.sandbox import TOKEN_PATH as ADICT_TOKEN_PATH
from pupitre.providers.grtgaz.sandbox import SANDBOX_CLIENT_ID as GRTGAZ_CLIENT_ID
from pupitre.providers.grtgaz.sandbox import SANDBOX_SCOPE as GRTGAZ_SCOPE
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

GRTGAZ_HOST = "http://grtgaz.sandbox.invalid"
GRTGAZ_BASE_URL = f"{GRTGAZ_HOST}/sfm/v1"
GRTGAZ_TOKEN_URL = f"{GRTGAZ_HOST}/oauth2/v2.0/token"
ADICT_HOST = "http://grdf-adict.sandbox.invalid"


def switchgrid_runtime(tmp_path: Path) -> Runtime:
    """Every provider on its simulator, on 17/12/2024 10:00, one attempt per call, a store and
    secrets of its own: the Switchgrid outbox's and upgrade's tests."""
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(dt.datetime(2024, 12, 17, 10)),
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
        sandbox_read_timeout=1.5,  # above what a loaded CI machine takes for an answer
    )
    runtime.faults.timeout_seconds = 2.0  # a late answer: after the read timeout
    return runtime


class Counting(httpx.AsyncBaseTransport):
    """Counts the requests that leave the client (to prove what is, or is not, retried)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    def calls_under(self, prefix: str) -> int:
        return sum(1 for _, path in self.calls if path.startswith(prefix))


def stepping() -> Callable[[], float]:
    """A monotonic clock 10 s further at each reading: a server-side quota never trips."""
    return itertools.count(0.0, 10.0).__next__


def grtgaz_auth(
    http: httpx.AsyncClient, clock: ManualClock, credentials: tuple[bytes, bytes]
) -> JwtAssertionCredentials:
    """GRTgaz's JWT-assertion auth against the simulator, with the test's key pair."""
    key, certificate = credentials
    return JwtAssertionCredentials(
        http,
        GRTGAZ_TOKEN_URL,
        GRTGAZ_CLIENT_ID,
        GRTGAZ_SCOPE,
        clock,
        provider="GRTgaz",
        private_key_pem=key,
        certificate_pem=certificate,
        audience=GRTGAZ_TOKEN_URL,
    )


def adict_client(http: httpx.AsyncClient, clock: ManualClock, quota: QuotaLimiter | None = None) -> AdictClient:
    """An ADICT client on the simulator's sandbox credentials, no retry."""
    auth = adict_auth(http, ADICT_CLIENT_ID, ADICT_CLIENT_SECRET, clock, token_url=ADICT_HOST + ADICT_TOKEN_PATH)
    return AdictClient(http, ADICT_HOST + "/adict/v2", auth, quota=quota, retry=RetryPolicy(attempts=1))


def right(n: int, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id_droit_acces": f"id-{n}",
        "id_pce": f"GI{n:06d}",
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "nom_titulaire": "MARTIN",
        "etat_droit_acces": "Active",
        "parcours": "TIERS_DIRECT",
    }
    base.update(fields)
    return base
