"""Simulator framework: fault middleware, in-process transport, token issuer.

Each provider's ``sandbox.py`` builds a Starlette app. :func:`sandbox_transport` mounts
it in-process behind ``httpx.ASGITransport`` so the real client code runs unchanged;
``pupitre sandbox serve`` serves the same apps on loopback with uvicorn.

The :class:`~pupitre.providers.core.faults.FaultPlan` is applied here, by
:class:`FaultMiddleware`, before a simulator sees the call.
"""

from __future__ import annotations

import asyncio
import functools
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx

from pupitre.providers.core.clock import Clock, add
from pupitre.providers.core.faults import FaultPlan

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_json(send: Send, status: int, body: bytes,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


ErrorBody = Callable[[int, str], Any]


def default_error_body(status: int, message: str) -> Any:
    return {"code": status, "message": message}


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultPlan` before the simulator sees the call."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, error_body: ErrorBody = default_error_body) -> None:
        self.app = app
        self.plan = plan
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.plan.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "status":
            body = json.dumps(self.error_body(fault.status, "simulated failure")).encode()
            await _send_json(send, fault.status, body)
        elif fault.kind == "timeout":
            await asyncio.sleep(self.plan.timeout_seconds)
            await _send_json(send, 504, b'{"message": "simulated timeout"}')
        elif fault.kind == "malformed":
            await _send_json(send, 200, b'{"data": [{"oops": <not json>}')
        elif fault.kind == "expired_token":
            body = json.dumps(self.error_body(401, "token expired")).encode()
            await _send_json(send, 401, body,
                             [(b"www-authenticate", b'Bearer error="invalid_token"')])
        elif fault.kind == "quota":
            body = json.dumps(self.error_body(429, "quota exceeded")).encode()
            await _send_json(send, 429, body, [(b"retry-after", b"1")])
        else:  # truncated: the real answer, cut in the middle
            await self._truncated(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200),
                    "headers": headers})
        await send({"type": "http.response.body", "body": cut})


class Simulator:
    """Base of every provider's simulator: its routes, behind the fault plan, as one ASGI app.

    A subclass sets ``plan`` and :attr:`error_body` (its API's error shape) and defines
    :meth:`routes`; it may override :meth:`starlette` (exception handlers) and
    :meth:`wrap` (an outer layer, e.g. an API-management quota gate).
    """

    plan: FaultPlan
    error_body: ErrorBody = staticmethod(default_error_body)

    def routes(self) -> list[Any]:
        raise NotImplementedError

    def starlette(self) -> Any:
        from starlette.applications import Starlette

        return Starlette(routes=self.routes())

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return app

    @functools.cached_property
    def app(self) -> ASGIApp:
        """The app with this simulator's fault plan (built once)."""
        return self.asgi(self.plan)

    def asgi(self, plan: FaultPlan | None = None) -> ASGIApp:
        """The app behind a :class:`FaultMiddleware` (``plan`` defaults to the simulator's
        own); it carries this simulator as its ``simulator`` attribute."""
        faults = FaultMiddleware(self.starlette(), plan if plan is not None else self.plan,
                                 error_body=type(self).error_body)
        app = self.wrap(faults)
        app.simulator = self  # type: ignore[attr-defined]
        return app


class SandboxTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` that also enforces the read timeout, as a socket would.

    ASGITransport ignores httpx timeouts; a simulated timeout must still surface as
    ``httpx.ReadTimeout`` in the client.
    """

    def __init__(self, app: ASGIApp, read_timeout: float = 10.0) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.read_timeout = read_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read") or self.read_timeout
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request),
                                          min(timeout, self.read_timeout))
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout("simulated read timeout", request=request) from exc


@dataclass
class IssuedToken:
    value: str
    expires_at: dt.datetime
    subject: str


class TokenIssuer:
    """Opaque bearer tokens for simulators, expiring on the shared clock."""

    def __init__(self, clock: Clock, lifetime: dt.timedelta) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.tokens: dict[str, IssuedToken] = {}

    def issue(self, subject: str) -> IssuedToken:
        token = IssuedToken("sbx-" + secrets.token_urlsafe(24), add(self.clock.now(), self.lifetime), subject)
        self.tokens[token.value] = token
        return token

    def revoke(self, value: str) -> None:
        self.tokens.pop(value, None)

    def check(self, authorization: str | None) -> IssuedToken | None:
        """The live token named by an ``Authorization: Bearer`` header, else ``None``."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = self.tokens.get(authorization[7:].strip())
        if token is None or token.expires_at <= self.clock.now():
            return None
        return token
