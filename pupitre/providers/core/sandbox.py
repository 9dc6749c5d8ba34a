"""Simulator framework: fault middleware, in-process transport, token issuer.

Each provider's ``sandbox.py`` builds a Starlette app. :class:`SandboxTransport` mounts
it in-process, streaming its answers chunk by chunk, so the real client code runs unchanged;
``pupitre sandbox serve`` serves the same apps on loopback with uvicorn.

The :class:`~pupitre.providers.core.faults.FaultPlan` is applied here, by
:class:`FaultMiddleware`, before a simulator sees the call — and after it for the
``hostile`` switch, which rewrites the answer's text fields (each simulator names them in
:attr:`Simulator.TEXT_FIELDS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import secrets
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
import msgspec

from pupitre.providers.core.clock import Clock, add, instant
from pupitre.providers.core.faults import FaultPlan

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_json(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


ErrorBody = Callable[[int, str], Any]

#: What the ``hostile`` switch appends to every text field: the sequences a third party
#: could type into a label or a name — window title (OSC 0), clipboard (OSC 52), clear
#: screen (CSI 2J), a hyperlink (OSC 8), an 8-bit CSI, a bidi override and isolate, a CR.
HOSTILE_TEXT = (
    " \x1b]0;PWNED\x07"
    "\x1b]52;c;cm0gLXJmIH4K\x07"
    "\x1b[2J\x1b[H"
    "\x1b]8;;https://evil.invalid/\x1b\\link\x1b]8;;\x1b\\"
    "\x9b31m"
    "\u202eLTR\u2066x\u2069\r"
)


def hostile(value: Any, fields: frozenset[str], hit: bool = False) -> Any:
    """JSON data with :data:`HOSTILE_TEXT` appended to every string under a key of
    ``fields`` (a text field, or a block of them: every string beneath it)."""
    if isinstance(value, str):
        return value + HOSTILE_TEXT if hit else value
    if isinstance(value, dict):
        return {k: hostile(v, fields, hit or k in fields) for k, v in value.items()}
    if isinstance(value, list):
        return [hostile(v, fields, hit) for v in value]
    return value


def default_error_body(status: int, message: str) -> Any:
    return {"code": status, "message": message}


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultPlan` before the simulator sees the call."""

    def __init__(
        self,
        app: ASGIApp,
        plan: FaultPlan,
        error_body: ErrorBody = default_error_body,
        text_fields: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.plan = plan
        self.error_body = error_body
        self.text_fields = text_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.plan.take(scope["method"], scope["path"])
        if fault is None:
            if self.plan.hostile(scope["method"], scope["path"]):
                await self._rewritten(scope, receive, send)
            else:
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
            await _send_json(send, 401, body, [(b"www-authenticate", b'Bearer error="invalid_token"')])
        elif fault.kind == "quota":
            body = json.dumps(self.error_body(429, "quota exceeded")).encode()
            await _send_json(send, 429, body, [(b"retry-after", b"1")])
        elif fault.kind == "late":
            await self._late(scope, receive, send)
        else:  # truncated: the real answer, cut in the middle
            await self._truncated(scope, receive, send)

    async def _late(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The simulator acts on the call; its answer leaves ``timeout_seconds`` later."""
        messages: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        await asyncio.sleep(self.plan.timeout_seconds)
        for message in messages:
            await send(message)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The simulator's whole answer, held back: status, headers (no content-length), body."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        return start.get("status", 200), headers, b"".join(chunks)

    @staticmethod
    async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, body = await self._answer(scope, receive)
        await self._send(send, status, headers, body[: max(1, len(body) // 2)])

    async def _rewritten(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The real answer with hostile text in its text fields (JSON or NDJSON)."""
        status, headers, body = await self._answer(scope, receive)
        kind = dict(headers).get(b"content-type", b"").split(b";")[0].strip()
        if kind == b"application/json" and body:
            body = json.dumps(hostile(json.loads(body), self.text_fields)).encode()
        elif kind == b"application/x-ndjson":
            lines = [json.dumps(hostile(json.loads(line), self.text_fields)) for line in body.splitlines() if line]
            body = ("\n".join(lines) + "\n").encode()
        await self._send(send, status, headers, body)


class Handled(msgspec.Struct, frozen=True):
    """One request a simulator's routes answered: the simulator has acted on it."""

    method: str
    path: str
    status: int


class _Recorder:
    """Records each request the routes answer, the moment they answer it (a late answer's
    request is recorded when the simulator has acted, not when the answer leaves)."""

    def __init__(self, app: ASGIApp, handled: list[Handled]) -> None:
        self.app = app
        self.handled = handled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.handled.append(Handled(scope["method"], scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recording)


class Simulator:
    """Base of every provider's simulator: its routes, behind the fault plan, as one ASGI app.

    A subclass sets ``plan`` and :attr:`error_body` (its API's error shape) and defines
    :meth:`routes`; it may override :meth:`starlette` (exception handlers) and
    :meth:`wrap` (an outer layer, e.g. an API-management quota gate).
    """

    plan: FaultPlan
    error_body: ErrorBody = staticmethod(default_error_body)
    #: The JSON keys of free text in this API's answers (labels, names, comments, messages):
    #: the ``hostile`` switch appends :data:`HOSTILE_TEXT` to each (to every string beneath
    #: a key naming a block of text).
    TEXT_FIELDS: frozenset[str] = frozenset()
    #: The attributes (dotted paths allowed) holding what this simulator's users changed or
    #: were given — shared by every sandbox process of a data dir
    #: (:mod:`~pupitre.providers.core.sandbox_world`); the rest is rebuilt from the seed.
    WORLD_FIELDS: tuple[str, ...] = ()

    def routes(self) -> list[Any]:
        raise NotImplementedError

    def starlette(self) -> Any:
        from starlette.applications import Starlette

        return Starlette(routes=self.routes())

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return app

    @functools.cached_property
    def app(self) -> SimulatorApp:
        """The app with this simulator's fault plan (built once)."""
        return self.asgi(self.plan)

    @functools.cached_property
    def handled(self) -> list[Handled]:
        """Every request its routes answered, in order (tests count what reached the API)."""
        return []

    def asgi(self, plan: FaultPlan | None = None) -> SimulatorApp:
        """The app behind a :class:`FaultMiddleware` (``plan`` defaults to the simulator's
        own); it carries this simulator as its ``simulator`` attribute."""
        faults = FaultMiddleware(
            _Recorder(self.starlette(), self.handled),
            plan if plan is not None else self.plan,
            error_body=type(self).error_body,
            text_fields=type(self).TEXT_FIELDS,
        )
        return SimulatorApp(self.wrap(faults), self)


class SimulatorApp:
    """A simulator's ASGI app, carrying the simulator behind it as ``simulator``."""

    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self._app = app
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


class LazyApp:
    """An ASGI app built on its first request (``build``): a simulator that no call reaches
    (a feed answered from the store, an empty watch-list) is never built."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._build()(scope, receive, send)


_END = object()


class _AppStream(httpx.AsyncByteStream):
    """The body as the app sends it: each ``http.response.body`` chunk is handed over when
    it is sent, a read waits at most the read timeout, closing early stops the app."""

    def __init__(
        self,
        queue: "asyncio.Queue[Any]",
        task: "asyncio.Task[None]",
        disconnected: asyncio.Event,
        timeout: float,
        request: httpx.Request,
    ) -> None:
        self._queue = queue
        self._task = task
        self._disconnected = disconnected
        self._timeout = timeout
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), self._timeout)
            except asyncio.TimeoutError as exc:
                raise httpx.ReadTimeout("simulated read timeout", request=self._request) from exc
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise httpx.RemoteProtocolError(
                    f"the server failed in the middle of the body ({type(item).__name__})", request=self._request
                ) from item
            yield item

    async def aclose(self) -> None:
        self._disconnected.set()
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class SandboxTransport(httpx.AsyncBaseTransport):
    """Mounts an ASGI app in-process and streams its answer, as a socket would.

    Unlike ``httpx.ASGITransport`` (which buffers the whole body), the app runs in its
    own task and each body chunk reaches the client as soon as the app sends it, so
    an NDJSON stream can be consumed while the simulator still produces it. The
    queue between them is bounded (a socket buffer): a slow reader slows the app.
    The read timeout is enforced on the response head and on every chunk, and
    closing the response early cancels the app.
    """

    QUEUE_CHUNKS = 64

    def __init__(self, app: ASGIApp, read_timeout: float = 10.0) -> None:
        self.app = app
        self.read_timeout = read_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = min(request.extensions.get("timeout", {}).get("read") or self.read_timeout, self.read_timeout)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("SandboxTransport serves httpx.AsyncClient requests only")
        body_chunks = request.stream.__aiter__()
        request_complete = False
        disconnected = asyncio.Event()
        started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = asyncio.get_running_loop().create_future()
        queue: asyncio.Queue[Any] = asyncio.Queue(self.QUEUE_CHUNKS)
        head_only = request.method == "HEAD"

        async def receive() -> dict[str, Any]:
            nonlocal request_complete
            if request_complete:
                await disconnected.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await body_chunks.__anext__()
            except StopAsyncIteration:
                request_complete = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if not started.done():
                    started.set_result((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if chunk and not head_only:
                    await queue.put(bytes(chunk))
                if not message.get("more_body", False):
                    await queue.put(_END)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — handed to the reader
                if not started.done():
                    started.set_exception(exc)
                else:
                    await queue.put(exc)
                return
            if not started.done():
                started.set_exception(RuntimeError("the app ended without a response"))
            await queue.put(_END)  # a no-op when the app already ended its body

        task = asyncio.create_task(run())
        try:
            status, headers = await asyncio.wait_for(asyncio.shield(started), timeout)
        except asyncio.TimeoutError as exc:
            task.cancel()
            raise httpx.ReadTimeout("simulated read timeout", request=request) from exc
        except BaseException:
            task.cancel()
            raise
        stream = _AppStream(queue, task, disconnected, timeout, request)
        return httpx.Response(status, headers=headers, stream=stream)


class IssuedToken(msgspec.Struct):
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
        if token is None or instant(token.expires_at) <= instant(self.clock.now()):  # instants: DST-safe
            return None
        return token
