"""``pupitre sandbox serve``: the GRTgaz simulator on a real loopback socket (uvicorn).

The real client, JWT-assertion auth and plain ``httpx.AsyncClient`` (no mounts) talk
to the served simulator over TCP. Each server runs in a background thread on a
free port and is stopped at the end of its test.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from pupitre import sandbox_server
from pupitre.providers.core.auth import JwtAssertionCredentials
from pupitre.providers.core.certs import sandbox_credentials
from pupitre.providers.core.clock import PARIS, ManualClock, SystemClock
from pupitre.providers.core.errors import ServerError
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz.client import GrtgazClient
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sites import SITES
from pupitre.runtime import build_runtime
from pupitre.sandbox_server import SandboxServer, ServeError, build_sandbox
from pupitre.settings import Settings

FAULT = "/sfm/v1/sites/*=status:503x1"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[SandboxServer]:
    sandbox = build_sandbox("127.0.0.1", 0, [FAULT], data_dir=tmp_path)
    sandbox.start_in_thread(timeout=5)
    try:
        yield sandbox
    finally:
        sandbox.stop(timeout=5)
        assert all(not s.started or s.should_exit for s in sandbox.servers)


def _client(http: httpx.AsyncClient, sandbox: SandboxServer, tmp_path: Path) -> GrtgazClient:
    served = sandbox["grtgaz"]
    key, certificate = sandbox_credentials(tmp_path / "sandbox", "grtgaz")
    auth = JwtAssertionCredentials(
        http,
        served.token_url,
        grtgaz.SANDBOX_CLIENT_ID,
        None,
        SystemClock(),
        provider="GRTgaz",
        private_key_pem=key,
        certificate_pem=certificate,
        audience=grtgaz.SANDBOX_AUDIENCE,
    )
    return GrtgazClient(http, served.base_url, auth)


async def test_real_client_over_a_real_socket(served: SandboxServer, tmp_path: Path) -> None:
    grt = served["grtgaz"]
    assert grt.port > 0 and grt.base_url == f"http://127.0.0.1:{grt.port}/sfm/v1"
    assert grt.token_url == f"http://127.0.0.1:{grt.port}/oauth2/v2.0/token"
    async with httpx.AsyncClient(timeout=5) as http:
        client = _client(http, served, tmp_path)
        # the --fault spec, applied through the server's plan, fails the first read ...
        with pytest.raises(ServerError) as failed:
            await client.flexibility_indicators()
        assert failed.value.status == 503
        assert served.plan.faults == []  # consumed
        # ... then the simulator answers, with a token issued over the socket
        sites = await client.flexibility_indicators()
        assert len(sites) == 13
        assert {s.site_id for s in sites} == {s.site_id for s in SITES}
        one = await client.site_flexibility_indicators("LI1001")
        assert one.site_id == "LI1001"
        assert client.auth.fetches == 1  # type: ignore[union-attr]  # the sandbox client's auth is its token strategy
        # a fault added while serving applies too (the plan is shared and thread-safe)
        sandbox_server.parse_faults(["/sfm/v1/sites/LI1002/*=status:502"], served.plan)
        with pytest.raises(ServerError) as failed:
            await client.site_flexibility_indicators("LI1002")
        assert failed.value.status == 502
    assert served["grtgaz"].simulator.requests == 2  # faulted calls never reach it


async def test_simulator_is_driveable_while_served(tmp_path: Path) -> None:
    clock = ManualClock(dt.datetime(2025, 1, 15, 10, 30, tzinfo=PARIS))
    sandbox = build_sandbox("127.0.0.1", 0, data_dir=tmp_path, clock=clock)
    simulator = sandbox["grtgaz"].simulator
    simulator.scenario = lambda site, flex, hour: IndicatorStatus.GREEN
    simulator.schedule("LI1003", Flex.Q_TO_QPLUS, "RED", dt.datetime(2025, 1, 15, 9, 52, tzinfo=PARIS))
    sandbox.start_in_thread()
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            key, certificate = sandbox_credentials(tmp_path / "sandbox", "grtgaz")
            auth = JwtAssertionCredentials(
                http,
                sandbox["grtgaz"].token_url,
                grtgaz.SANDBOX_CLIENT_ID,
                None,
                clock,
                provider="GRTgaz",
                private_key_pem=key,
                certificate_pem=certificate,
                audience=grtgaz.SANDBOX_AUDIENCE,
            )
            client = GrtgazClient(http, sandbox["grtgaz"].base_url, auth)
            site = await client.site_flexibility_indicators("LI1003")
    finally:
        sandbox.stop()
    assert site.currentIndicator.indicator(Flex.Q_TO_QPLUS).status is IndicatorStatus.RED


async def test_printed_settings_point_pupitre_at_the_served_sandbox(served: SandboxServer, tmp_path: Path) -> None:
    """The ``[grtgaz]`` snippet printed by ``serve`` is valid settings that reach the server."""
    text = served.describe()
    grt = served["grtgaz"]
    assert grt.base_url in text and grt.token_url in text
    assert grtgaz.SANDBOX_CLIENT_ID in text and "[grtgaz]" in text
    snippet = "\n".join(sandbox_server.settings_snippet(grt, tmp_path))
    data = tomllib.loads(snippet)
    assert Path(data["grtgaz"]["certificate"]) == tmp_path / "sandbox" / "grtgaz.cert.pem"
    assert Path(data["grtgaz"]["private_key"]) == tmp_path / "sandbox" / "grtgaz.key.pem"
    settings = Settings.from_dict(data)
    assert settings.grtgaz.configured  # so pupitre uses it as a "real" API, over the socket
    served.plan.clear()
    runtime = build_runtime(
        settings,
        store=Store(":memory:"),
        data_dir=tmp_path,
        secrets=SecretStore(credentials_file=tmp_path / "credentials.toml", env={}),
    )
    try:
        assert "grtgaz" not in runtime.sandboxed
        sites = await runtime.feed(grtgaz.INDICATORS_FEED).fetch()
    finally:
        await runtime.aclose()
    assert len(sites) == 13


def test_serve_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_server.serve(host="0.0.0.0", port=8765, faults=[]) == 2
    err = capsys.readouterr().err
    assert "0.0.0.0" in err and "loopback" in err
    assert sandbox_server.serve(host="grtgaz.sandbox.invalid", port=8765, faults=[]) == 2


@pytest.mark.parametrize(
    "spec", ["no-equals-sign", "/x=explode", "/x=status:abc", "/x=statusx0", "=status:503", "/x=status:200"]
)
def test_serve_refuses_a_bad_fault_spec(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_server.serve(host="127.0.0.1", port=8765, faults=[spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pupitre sandbox serve: bad fault") and spec in err


def test_serve_refuses_a_port_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path))
    sandbox = build_sandbox("127.0.0.1", 0, data_dir=tmp_path)
    try:
        busy = sandbox["grtgaz"].port
        with pytest.raises(ServeError, match="cannot listen"):
            build_sandbox("127.0.0.1", busy, data_dir=tmp_path)
        assert sandbox_server.serve(host="127.0.0.1", port=busy, faults=[]) == 2
        assert "cannot listen" in capsys.readouterr().err
    finally:
        sandbox.close()


def test_parse_faults_fills_the_plan() -> None:
    plan = sandbox_server.parse_faults(["/sfm/v1/sites/*=status:503x3", "/oauth2/*=timeout"])
    first, second = plan.faults
    assert (first.route, first.kind, first.status, first.count) == ("/sfm/v1/sites/*", "status", 503, 3)
    assert (second.route, second.kind, second.count) == ("/oauth2/*", "timeout", 1)
    (token,) = sandbox_server.parse_faults(["/sfm/v1/*=expired_token"]).faults
    assert (token.route, token.kind, token.count) == ("/sfm/v1/*", "expired_token", 1)


def test_printed_switchgrid_settings_send_the_test_header(served: SandboxServer, tmp_path: Path) -> None:
    """The simulator is a test environment: its snippet sets ``test_env = true``."""
    data = tomllib.loads("\n".join(sandbox_server.settings_snippet(served["switchgrid"], tmp_path)))
    assert data["switchgrid"]["test_env"] is True
    assert Settings.from_dict(data).switchgrid.test_env
