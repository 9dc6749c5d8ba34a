"""The one ``httpx.AsyncClient`` factory, the request log, and JSON decoding.

Base URLs are checked by :mod:`pupitre.providers.core.urls` (https only, plain
http to loopback). The request log records method, path, status and latency — never
headers, query strings or bodies, which may hold secrets.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import deque
from typing import Any, Callable, Mapping

import httpx
import msgspec

from pupitre import __version__
from pupitre.providers.core.errors import PayloadError

log = logging.getLogger("pupitre.http")

USER_AGENT = f"pupitre/{__version__} (+control-room dashboard)"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DETAIL_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_MARKUP_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


class RequestRecord(msgspec.Struct, frozen=True):
    method: str
    host: str
    path: str
    status: int | None
    latency_ms: float
    error: str = ""


class RequestLog:
    """A bounded in-memory log of requests, also written to the ``pupitre.http`` logger: one
    line per answer, a warning for a failed one (its status). A call that got no answer (network,
    TLS, proxy, timeout) is logged where it is mapped, with its reason
    (:func:`~pupitre.providers.core.errors.error_for_exception`): each failed call once."""

    def __init__(self, size: int = 500) -> None:
        self.records: deque[RequestRecord] = deque(maxlen=size)
        self.listeners: list[Callable[[RequestRecord], None]] = []

    def add(self, record: RequestRecord) -> None:
        self.records.append(record)
        failed = record.status is not None and record.status >= 400
        log.log(
            logging.WARNING if failed else logging.INFO,
            "%s %s%s -> %s in %.0f ms%s%s",
            record.method,
            record.host,
            record.path,
            record.status,
            record.latency_ms,
            f": failed (HTTP {record.status})" if failed else "",
            f" {record.error}" if record.error else "",
        )
        for listener in self.listeners:
            listener(record)

    async def on_request(self, request: httpx.Request) -> None:
        request.extensions["pupitre_started"] = time.perf_counter()

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        started = request.extensions.get("pupitre_started", time.perf_counter())
        self.add(
            RequestRecord(
                request.method,
                request.url.host,
                request.url.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        )


class NoNetworkTransport(httpx.AsyncBaseTransport):
    """The transport when every provider runs on its simulator: nothing leaves the process.

    It also spares building a TLS context (~50 ms of start-up) that would never be used.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f"{request.url.host} is not reachable: every provider runs on its sandbox", request=request
        )


def make_http_client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    request_log: RequestLog | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    """The shared client. ``mounts`` route sandbox hosts to in-process ASGI apps.

    Real hosts are verified with the OS trust store plus ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``
    / ``REQUESTS_CA_BUNDLE`` (:mod:`pupitre.providers.core.tls`), through the proxies of the
    environment, SOCKS included. With the :class:`NoNetworkTransport` nothing leaves the
    process: no TLS context is built and no proxy is read.
    """
    from pupitre.providers.core.errors import ConfigError

    hooks: dict[str, list[Any]] = {"request": [], "response": []}
    request_log = request_log if request_log is not None else RequestLog()  # every answer logged, failures too
    hooks["request"].append(request_log.on_request)
    hooks["response"].append(request_log.on_response)
    offline = isinstance(transport, NoNetworkTransport)
    verify: Any = True
    if not offline:
        from pupitre.providers.core.tls import ssl_context

        verify = ssl_context()
    try:
        return httpx.AsyncClient(
            transport=transport,
            mounts=mounts,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            event_hooks=hooks,
            follow_redirects=False,
            verify=verify,
            trust_env=not offline,
        )
    except ImportError as exc:  # a SOCKS proxy without httpx's socks extra
        raise ConfigError(
            f"a SOCKS proxy is set (ALL_PROXY / HTTPS_PROXY) but its support is missing ({exc.name}): "
            "reinstall pupitre with its dependencies (httpx[socks])"
        ) from None
    except ValueError as exc:  # an unknown proxy scheme
        raise ConfigError(f"a proxy variable (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY) is not usable: {exc}") from None


def decode_json(response: httpx.Response, provider: str) -> Any:
    """Parse a JSON body or raise :class:`PayloadError` (truncated or malformed bodies)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(
            "the API sent a body that is not valid JSON (truncated or malformed)",
            provider=provider,
            status=response.status_code,
            detail=f"{type(exc).__name__} at byte {getattr(exc, 'pos', '?')}",
        ) from exc


def safe_text(text: str, size: int = DETAIL_MAX) -> str:
    """API text made safe for the screen: one line, markup tags escaped, truncated."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > size:
        text = text[:size].rstrip() + "…"
    return _MARKUP_TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
