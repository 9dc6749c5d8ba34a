"""The ``pupitre`` command. Heavy imports (Textual, the simulators) happen only where needed.

pupitre [--sandbox]               open the dashboard
pupitre check [--json] [--sandbox]   daily checks without the UI; exit 0 / 1 / 2
pupitre config path|show|edit     settings
pupitre secrets set|delete|where  secrets (keyring or user-only credentials file)
pupitre sandbox serve             serve the simulators on loopback
pupitre outbox [release|drop]     held and pending actions of every environment
pupitre audit [--all]             the audit log, with each line's environment
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from typing import Any

from pupitre import __version__, cli_outbox
from pupitre.cli_config import add_subcommands

EXIT_ERROR = 2
log = logging.getLogger("pupitre")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (rotations included) is created user-only (0600)."""

    def _open(self):  # type: ignore[no-untyped-def]
        os.close(os.open(self.baseFilename, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        os.chmod(self.baseFilename, 0o600)
        return super()._open()


def setup_logging(to_stderr: bool = False) -> None:
    """Log to a user-only file in the data dir; never to the terminal under the dashboard."""
    from pupitre.providers.core.config import log_path

    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if to_stderr:
        root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _runtime(args: argparse.Namespace) -> Any:
    from pupitre.runtime import build_runtime

    clock = None
    if getattr(args, "clock", None):
        import datetime as dt

        from pupitre.providers.core.clock import ManualClock
        from pupitre.providers.core.errors import ConfigError

        if not args.sandbox:
            raise ConfigError("--clock only works with --sandbox: real APIs live in real time")
        try:
            clock = ManualClock(dt.datetime.fromisoformat(args.clock), running=True)
        except ValueError:
            raise ConfigError(f"--clock wants a Paris time like 2026-11-18T15:50, not {args.clock!r}") from None
    return build_runtime(sandbox=args.sandbox, clock=clock)


def cmd_run(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    from pupitre.tui.app import PupitreApp

    PupitreApp(runtime, start_screen=args.screen).run()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pupitre import check

    return check.main(_runtime(args), as_json=args.json)


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401  (an optional extra: say how to get it)
    except ImportError:
        print(
            "pupitre: `pupitre sandbox serve` needs uvicorn, an optional extra: pip install 'pupitre[serve]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    from pupitre.sandbox_server import serve

    return serve(host=args.host, port=args.port, faults=args.fault or [])


def version_text() -> str:
    """``pupitre --version``: pupitre's version with Python's and Textual's (read from the
    installed metadata: Textual itself is not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        textual = version("textual")
    except PackageNotFoundError:
        textual = "not installed"
    return f"pupitre {__version__} (Python {sys.version.split()[0]}, Textual {textual})"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pupitre", description="Control-room dashboard for French energy APIs (GRTgaz, EDF OA, GRDF, Switchgrid)."
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--sandbox", action="store_true", help="run every provider on its built-in simulator")
    parser.add_argument(
        "--clock",
        metavar="YYYY-MM-DDTHH:MM",
        help="with --sandbox: start the simulated day at this Paris time (demos, training)",
    )
    parser.add_argument(
        "--screen",
        default="overview",
        choices=["overview", "flexibility", "curtailments", "requests", "programs", "access_rights", "load_curves"],
        help="the screen to open first (default: overview)",
    )
    parser.set_defaults(handler=cmd_run)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="run the daily checks without the UI (exit 0 fine, 1 attention, 2 critical)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--sandbox", action="store_true", help="check against the simulators")
    check.add_argument("--clock", metavar="YYYY-MM-DDTHH:MM", help="with --sandbox: the simulated time")
    check.set_defaults(handler=cmd_check)
    add_subcommands(sub)
    cli_outbox.add_subcommands(sub)
    sandbox = sub.add_parser("sandbox", help="the built-in simulators")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = sandbox_sub.add_parser("serve", help="serve every simulator on loopback (real sockets)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="first port; one port per provider")
    serve.add_argument(
        "--fault",
        action="append",
        metavar="ROUTE=KIND[:STATUS][xCOUNT]",
        help="inject a fault, e.g. '/sfm/v1/sites/*=status:503x3' (repeatable)",
    )
    serve.set_defaults(handler=cmd_sandbox_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pupitre.providers.core.errors import ConfigError
    from pupitre.providers.core.store import StoreError

    args = build_parser().parse_args(argv)
    try:
        setup_logging()
        return int(args.handler(args))
    except (ConfigError, StoreError) as error:
        print(f"pupitre: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # never a traceback for the operator: it goes to the log
        log.exception("unexpected error")
        print(
            f"pupitre: unexpected error ({type(error).__name__}); details in the log file "
            "(`pupitre config path --all` shows where)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
