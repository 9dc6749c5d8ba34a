"""Simulator framework: fault plan, fault middleware, in-process transport, token issuer.

Each provider's ``sandbox.py`` builds a Starlette app. :func:`sandbox_transport` mounts
it in-process behind ``httpx.ASGITransport`` so the real client code runs unchanged;
``pupitre sandbox serve`` serves the same apps on loopback with uvicorn.

The :class:`FaultPlan` makes the next N calls of a route fail in one of the ways
real APIs fail: a status code, a timeout, a malformed or truncated body, a 401 as
if the token expired, or a quota refusal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

import httpx

from pupitre.providers.core.clock import Clock, add

FaultKind = Literal["status", "timeout", "malformed", "truncated", "expired_token", "quota"]
FAULT_KINDS: tuple[str, ...] = ("status", "timeout", "malformed", "truncated", "expired_token", "quota")
_FAULT_SPEC = re.compile(r"(?P<route>[^=]+)=(?P<kind>[a-z_]+)(?::(?P<status>\d{3}))?(?:x(?P<count>[1-9]\d*))?")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Fault:
    """``count`` next calls matching ``method`` and ``route`` (a glob on the path) fail."""

    route: str
    kind: FaultKind
    count: int = 1
    status: int = 500
    method: str = "*"

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.route)


@dataclass
class FaultPlan:
    """Thread-safe list of pending faults, consumed in order."""

    faults: list[Fault] = field(default_factory=list)
    timeout_seconds: float = 30.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, route: str, kind: FaultKind, count: int = 1, status: int = 500,
            method: str = "*") -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        fault = Fault(route, kind, count, status, method.upper())
        with self._lock:
            self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    @staticmethod
    def parse(spec: str) -> Fault:
        """Parse ``ROUTE=KIND[:STATUS][xCOUNT]``, e.g. ``/sites/*=status:503x3``.

        A status (400-599) goes only with the ``status`` kind; the count is at least 1.
        """
        match = _FAULT_SPEC.fullmatch(spec.strip())
        if match is None or match["kind"] not in FAULT_KINDS or (
                match["status"] and match["kind"] != "status"):
            raise ValueError(f"bad fault {spec!r}: expected ROUTE=KIND[:STATUS][xCOUNT] with KIND "
                             f"one of {', '.join(FAULT_KINDS)} (STATUS only with 'status')")
        status = int(match["status"] or 500)
        if not 400 <= status <= 599:
            raise ValueError(f"bad fault {spec!r}: the status must be between 400 and 599")
        return Fault(match["route"], match["kind"], int(match["count"] or 1), status)  # type: ignore[arg-type]


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
