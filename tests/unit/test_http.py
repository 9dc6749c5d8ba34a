"""The shared client: URL rules, the request log (never headers, queries or bodies), offline mode."""

import httpx
import pytest

from pupitre.providers.core.context import ProviderContext
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.http import NoNetworkTransport, RequestLog, make_http_client
from pupitre.providers.core.urls import check_base_url, is_loopback


@pytest.mark.parametrize(
    "url",
    [
        "https://api.offre.grtgaz.com/sfm/v1/",
        "http://127.0.0.1:8765/x",
        "http://localhost/x",
        "http://[::1]:80/",
        "http://grtgaz.sandbox.invalid/x",
    ],
)
def test_accepted_urls(url):
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://api.example.com/", "ftp://127.0.0.1/", "not a url", "http:///x"])
def test_refused_urls(url):
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_loopback():
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("10.0.0.1")


async def test_request_log_records_no_secret():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    log = RequestLog()
    async with make_http_client(transport=httpx.MockTransport(handler), request_log=log) as http:
        await http.get(
            "https://api.example.com/v1/things?token=SECRET123", headers={"Authorization": "Bearer SECRET456"}
        )
    (record,) = log.records
    assert (record.method, record.host, record.path, record.status) == ("GET", "api.example.com", "/v1/things", 200)
    assert "SECRET" not in repr(record)


async def test_offline_transport_refuses_everything():
    async with make_http_client(transport=NoNetworkTransport()) as http:
        with pytest.raises(httpx.ConnectError, match="every provider runs on its sandbox"):
            await http.get("https://api.example.com/")


def test_quota_limiter_is_shared_per_credential(tmp_path):
    from pupitre.providers.core.clock import SystemClock
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.providers.core.store import Store

    ctx = ProviderContext(
        clock=SystemClock(),
        store=Store(tmp_path / "s"),
        secrets=SecretStore(env={}),
        data_dir=tmp_path,
        faults=FaultPlan(),
        http_factory=lambda: None,
    )
    first = ctx.quota("omega:supplier-1", provider="GRDF OMEGA", per_second=1)
    assert ctx.quota("omega:supplier-1", provider="GRDF OMEGA", per_second=1) is first
    assert ctx.quota("omega:supplier-2", provider="GRDF OMEGA", per_second=1) is not first


# -- whether a failed request may have reached the API --------------------------------------------


@pytest.mark.parametrize(
    ("exception", "uncertain"),
    [
        pytest.param(httpx.ConnectError("[Errno 111] Connection refused"), False, id="refused"),
        pytest.param(httpx.ConnectError("[Errno -2] Name or service not known"), False, id="dns"),
        pytest.param(httpx.ConnectTimeout("connect"), False, id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("pool"), False, id="pool-timeout"),
        pytest.param(httpx.ProxyError("403 Forbidden"), False, id="proxy-refused"),
        pytest.param(httpx.ReadTimeout("read"), True, id="read-timeout"),
        pytest.param(httpx.WriteTimeout("write"), True, id="write-timeout"),
        pytest.param(httpx.ReadError("reset"), True, id="read-error"),
        pytest.param(httpx.WriteError("broken pipe"), True, id="write-error"),
        pytest.param(httpx.RemoteProtocolError("server disconnected"), True, id="remote-protocol"),
    ],
)
def test_only_a_failure_before_the_request_left_is_certain(exception: Exception, uncertain: bool) -> None:
    from pupitre.providers.core.errors import NetworkError, error_for_exception

    error = error_for_exception(exception, "GRTgaz")
    assert isinstance(error, NetworkError) and error.retryable
    assert error.uncertain is uncertain


@pytest.mark.parametrize(("status", "uncertain"), [(503, True), (500, True), (429, False), (409, False)])
def test_answers_are_uncertain_only_when_the_server_failed(status: int, uncertain: bool) -> None:
    from pupitre.providers.core.errors import error_for_response

    response = httpx.Response(status, request=httpx.Request("POST", "https://api.invalid/x"))
    assert error_for_response(response, "GRTgaz").uncertain is uncertain


async def test_a_closed_loopback_port_is_a_connection_refused_nothing_sent() -> None:
    import socket

    from pupitre.providers.core.client import ApiClient
    from pupitre.providers.core.errors import NetworkError

    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient() as http:
        client = ApiClient(http, f"http://127.0.0.1:{port}", None)
        with pytest.raises(NetworkError) as caught:
            await client.send("POST", "/orders", json={})
    assert caught.value.uncertain is False
