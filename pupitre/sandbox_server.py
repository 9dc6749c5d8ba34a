"""``pupitre sandbox serve``: every provider's simulator on loopback, over real sockets.

One uvicorn server per provider (in :data:`pupitre.runtime.PROVIDERS` order), on
consecutive ports from ``--port``, all in one event loop, sharing one
:class:`~pupitre.providers.core.sandbox.FaultPlan` filled from ``--fault`` specs.
The simulators run on the system clock and accept the sandbox client certificate of
this installation (``<data dir>/sandbox/<provider>.cert.pem``). Only loopback
addresses are served: the simulators hand out tokens to anyone who asks.

Tests use :func:`build_sandbox` and :meth:`SandboxServer.start_in_thread` /
:meth:`SandboxServer.stop` (port 0 picks free ports). No Textual import.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, Iterable, Iterator, TextIO

import httpx
import msgspec
import uvicorn

from pupitre.providers.core import config
from pupitre.providers.core.clock import Clock, SystemClock
from pupitre.providers.core.context import ProviderContext
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.core.urls import is_loopback

EXIT_OK = 0
EXIT_USAGE = 2


class ServeError(Exception):
    """The sandbox cannot be served as asked; the message says why and what to do."""


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals alone: :func:`serve` handles them for all."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Served(msgspec.Struct):
    """One provider's simulator bound to a loopback socket."""

    provider: str
    module: Any
    app: Any
    sock: socket.socket
    server: uvicorn.Server
    host: str
    port: int

    @property
    def simulator(self) -> Any:
        return self.app.simulator

    def url(self, sandbox_url: str) -> str:
        """A URL of the in-process sandbox (``http://<x>.sandbox.invalid/...``) on this socket."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        parsed = httpx.URL(sandbox_url)
        return f"http://{host}:{self.port}{parsed.raw_path.decode('ascii')}".rstrip("/")

    @property
    def base_url(self) -> str:
        return self.url(self.module.SANDBOX_BASE_URL)

    @property
    def token_url(self) -> str | None:
        token = getattr(self.module, "SANDBOX_TOKEN_URL", None)
        return self.url(token) if token else None


class SandboxServer(msgspec.Struct, dict=True):
    """Every simulator, bound and ready to serve; :meth:`run` blocks, threads for tests."""

    served: list[Served]
    plan: FaultPlan
    data_dir: Path

    def __post_init__(self) -> None:
        # runtime state, not fields (out of the constructor and the repr)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __getitem__(self, provider: str) -> Served:
        return next(s for s in self.served if s.provider == provider)

    @property
    def servers(self) -> list[uvicorn.Server]:
        return [s.server for s in self.served]

    async def serve(self) -> None:
        """Serve every simulator until each server's ``should_exit`` is set."""
        await asyncio.gather(*(s.server.serve(sockets=[s.sock]) for s in self.served))

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every server to stop; wait for the background thread, if any."""
        for server in self.servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.close()

    def close(self) -> None:
        for served in self.served:
            with contextlib.suppress(OSError):
                served.sock.close()

    def start_in_thread(self, timeout: float = 5.0) -> threading.Thread:
        """Serve in a daemon thread; return once every server accepts connections."""

        def target() -> None:
            try:
                asyncio.run(self.serve())
            except BaseException as exc:  # noqa: BLE001 - reported by start_in_thread
                self._error = exc

        self._thread = threading.Thread(target=target, name="pupitre-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not all(server.started for server in self.servers):
            if self._error is not None or not self._thread.is_alive():
                raise ServeError(f"the sandbox did not start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServeError(f"the sandbox did not start within {timeout:.0f} s")
            time.sleep(0.01)
        return self._thread

    def describe(self) -> str:
        """What to print before serving: URLs, client id and the settings to use them."""
        lines = [f"pupitre sandbox — simulators on loopback (sandbox data in {self.data_dir})", ""]
        for served in self.served:
            module = served.module
            title = getattr(module, "TITLE", served.provider)
            lines.append(f"{title} ({served.provider})")
            lines.append(f"  base URL:  {served.base_url}")
            if served.token_url:
                lines.append(f"  token URL: {served.token_url}")
            client_id = getattr(module, "SANDBOX_CLIENT_ID", None)
            if client_id:
                lines.append(f"  client id: {client_id}")
            lines.append("  settings (pupitre config edit) to use it:")
            lines += [f"    {line}" for line in settings_snippet(served, self.data_dir)]
            notes = getattr(module, "serve_notes", None)
            if notes is not None:
                lines += [f"  {line}" for line in notes(served.simulator)]
            lines.append("")
        if self.plan.faults:
            lines.append("faults:")
            lines += [
                f"  {f.method} {f.route}: {f.kind}" + (f" {f.status}" if f.kind == "status" else "") + f" x{f.count}"
                for f in self.plan.faults
            ]
            lines.append("")
        lines.append("Ctrl-C stops.")
        return "\n".join(lines)


def settings_snippet(served: Served, data_dir: Path) -> list[str]:
    """The ``[provider]`` TOML section pointing pupitre at this served simulator."""
    from pupitre.settings import Settings

    section = Settings.sections().get(served.provider)
    known = section.__struct_fields__ if section else ()
    sandbox_dir = data_dir / "sandbox"
    values: dict[str, Any] = {
        "base_url": served.base_url,
        "token_url": served.token_url,
        "client_id": getattr(served.module, "SANDBOX_CLIENT_ID", None),
        "audience": getattr(served.module, "SANDBOX_AUDIENCE", None),
        "certificate": sandbox_dir / f"{served.provider}.cert.pem",
        "private_key": sandbox_dir / f"{served.provider}.key.pem",
        **getattr(served.module, "SERVE_SETTINGS", {}),  # what the simulator expects (e.g. a test header)
    }
    serve_settings = getattr(served.module, "serve_settings", None)
    if serve_settings is not None:  # what this simulator was built with (supplier code, login, client id)
        values.update(serve_settings(served.simulator))
    lines = [f"[{served.provider}]"]
    for key, value in values.items():
        if value is None or (known and key not in known):
            continue
        if isinstance(value, Path) and not value.exists():
            continue
        lines.append(f"{key} = {config.toml_value(value)}")
    return lines


def parse_faults(specs: Iterable[str], plan: FaultPlan | None = None) -> FaultPlan:
    """``--fault ROUTE=KIND[:STATUS][xCOUNT]`` specs into a plan; :class:`ServeError` if bad."""
    plan = plan if plan is not None else FaultPlan()
    for spec in specs:
        try:
            fault = FaultPlan.parse(spec)
        except ValueError as exc:
            raise ServeError(f"{exc}; e.g. '/sfm/v1/sites/*=status:503x3'") from None
        plan.add(fault.route, fault.kind, fault.count, fault.status, fault.method)
    return plan


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose another --port)") from None


def _no_client() -> Any:
    raise RuntimeError("the sandbox server makes no outgoing calls")


def build_sandbox(
    host: str = "127.0.0.1",
    port: int = 8765,
    faults: Iterable[str] = (),
    *,
    data_dir: Path | None = None,
    clock: Clock | None = None,
    log: bool = False,
    training_day: bool = False,
) -> SandboxServer:
    """Bind one loopback socket per provider and build its uvicorn server.

    ``port`` 0 gives every provider a free port. ``log`` turns on uvicorn's console
    logging (the access log of ``pupitre sandbox serve``); ``training_day``: the simulators'
    data of a training day (:attr:`ProviderContext.training_day`). Raises :class:`ServeError`
    for a non-loopback host, a bad fault spec or a port that cannot be bound.
    """
    from pupitre.runtime import PROVIDERS

    if not is_loopback(host) or host.endswith(".sandbox.invalid"):
        raise ServeError(
            f"refusing to serve the sandbox on {host!r}: only loopback addresses "
            "(127.0.0.1, ::1, localhost) are allowed, because the simulators give "
            "tokens to anyone"
        )
    plan = parse_faults(faults)
    data_dir = data_dir if data_dir is not None else config.data_dir()
    ctx = ProviderContext(
        clock=clock or SystemClock(),
        store=Store(":memory:"),
        secrets=SecretStore(),
        data_dir=data_dir,
        faults=plan,
        http_factory=_no_client,
        training_day=training_day,
    )
    from pupitre.settings import Settings

    defaults = Settings()
    served: list[Served] = []
    try:
        for index, (name, module) in enumerate(PROVIDERS.items()):
            sock = _bind(host, port + index if port else 0)
            app = module.sandbox_app(getattr(defaults, name), ctx)
            served.append(_served(name, module, app, sock, host, log))
    except BaseException:
        for item in served:
            item.sock.close()
        raise
    return SandboxServer(served, plan, data_dir)


def _served(name: str, module: Any, app: Any, sock: socket.socket, host: str, log: bool) -> Served:
    bound_port = sock.getsockname()[1]
    options: dict[str, Any] = (
        {"log_level": "info"} if log else {"log_config": None, "log_level": "warning", "access_log": False}
    )
    server = _Server(
        uvicorn.Config(
            app,
            host=host.strip("[]"),
            port=bound_port,
            interface="asgi3",
            lifespan="off",
            timeout_graceful_shutdown=2,
            **options,
        )
    )
    return Served(name, module, app, sock, server, host.strip("[]"), bound_port)


def serve(host: str, port: int, faults: list[str], *, out: TextIO | None = None) -> int:
    """``pupitre sandbox serve``: print how to use the simulators, serve until Ctrl-C."""
    out = out or sys.stdout
    try:
        if not 0 < port < 65536:
            raise ServeError(f"bad --port {port}: use 1-65535")
        sandbox = build_sandbox(host, port, faults, log=True, training_day=True)
    except ServeError as exc:
        print(f"pupitre sandbox serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(sandbox.describe(), file=out, flush=True)
    return _run(sandbox)


def _run(sandbox: SandboxServer) -> int:
    """Serve in this thread; SIGINT/SIGTERM stop every server (twice: force)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        for server in sandbox.servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(sandbox.serve())
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.close()
    return EXIT_OK
