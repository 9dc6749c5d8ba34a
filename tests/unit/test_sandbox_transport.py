"""The in-process sandbox transport streams: rows reach the client while the app still sends."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import NetworkError, PayloadError
from pupitre.providers.core.faults import FaultKind, FaultPlan
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grdf_adict.client import AdictClient, adict_auth
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, TOKEN_PATH, AdictSimulator
from tests.providers.helpers import stepping

HOST = "http://grdf-adict.sandbox.invalid"


def _client(http: httpx.AsyncClient, clock: ManualClock) -> AdictClient:
    auth = adict_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=HOST + TOKEN_PATH)
    return AdictClient(http, HOST + "/adict/v2", auth, quota=None)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))


async def test_first_line_arrives_before_the_simulator_produced_the_last(clock: ManualClock) -> None:
    sim = AdictSimulator(clock, FaultPlan(), park_size=20_000, monotonic=stepping())
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        rights = _client(http, clock).access_rights()
        first = await rights.__anext__()
        assert first.id_pce
        assert sim.finished_streams == 0 and sim.rows_sent < 20_000  # still producing
        rest = [r async for r in rights]
    assert len(rest) == 19_999 and sim.finished_streams == 1


async def test_closing_early_stops_the_app(clock: ManualClock) -> None:
    sim = AdictSimulator(clock, FaultPlan(), park_size=20_000, monotonic=stepping())
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        token = (
            await http.post(
                HOST + TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_id": SANDBOX_CLIENT_ID,
                    "client_secret": SANDBOX_CLIENT_SECRET,
                },
            )
        ).json()["access_token"]
        async with http.stream(
            "GET", HOST + "/adict/v2/droits_acces", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            await response.aiter_bytes().__anext__()
        sent = sim.rows_sent
        await asyncio.sleep(0.05)
        assert sim.rows_sent == sent < 20_000 and sim.finished_streams == 0


async def test_a_stalled_body_times_out() -> None:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"a": 1}\n', "more_body": True})
        await asyncio.sleep(5)
        await send({"type": "http.response.body", "body": b""})

    async with httpx.AsyncClient(transport=SandboxTransport(app, read_timeout=0.1)) as http:
        async with http.stream("GET", "http://x.invalid/") as response:
            chunks = response.aiter_bytes()
            assert await chunks.__anext__() == b'{"a": 1}\n'
            with pytest.raises(httpx.ReadTimeout):
                await chunks.__anext__()


async def test_an_app_failing_mid_body_is_a_protocol_error() -> None:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("boom")

    async with httpx.AsyncClient(transport=SandboxTransport(app)) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("http://x.invalid/")


@pytest.mark.parametrize("kind,error", [("truncated", PayloadError), ("timeout", NetworkError)])
async def test_faults_still_apply_while_streaming(clock: ManualClock, kind: FaultKind, error: type) -> None:
    plan = FaultPlan(timeout_seconds=1.0)
    sim = AdictSimulator(clock, plan, park_size=400, monotonic=stepping())
    plan.add("/adict/v2/droits_acces", kind)
    got = []
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app, read_timeout=0.2)) as http:
        with pytest.raises(error):
            async for right in _client(http, clock).access_rights():
                got.append(right)
    assert (100 < len(got) < 400) if kind == "truncated" else not got
