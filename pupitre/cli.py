"""The ``pupitre`` command. Heavy imports (Textual, the simulators) happen only where needed.

pupitre [--sandbox]               open the dashboard
pupitre check [--json] [--sandbox]   daily checks without the UI; exit 0 / 1 / 2
pupitre config path|show|check|edit  settings (check: every problem with its line)
pupitre keys                      every key binding id, its key and remapped key
pupitre secrets set|delete|where  secrets (keyring or user-only credentials file)
pupitre store check|backup [PATH]  the local store's integrity; a consistent copy
pupitre sandbox serve             serve the simulators on loopback
pupitre outbox [release|drop]     held and pending actions of every environment
pupitre audit [--all]             the audit log, with each line's environment
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from pupitre import __version__, cli_outbox
from pupitre.cli_config import add_subcommands
from pupitre.cli_store import add_store_subcommands
from pupitre.crash import EXIT_CHECK_UNKNOWN, EXIT_CRASH, crash_hook, crash_sentence, log_crash
from pupitre.logs import setup_logging
from pupitre.tui import registry

EXIT_ERROR = 2
log = logging.getLogger("pupitre")


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

    app = PupitreApp(runtime, start_screen=args.screen)
    app.run()
    if app.crashed is not None:  # logged by the app; the terminal is restored by now
        print(crash_sentence(app.crashed, "the dashboard"), file=sys.stderr)
        return EXIT_CRASH
    return app.return_code or 0


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
        choices=[entry.name for entry in registry.modes()],
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
    add_store_subcommands(sub)
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
        crash_hook("cli")
        return int(args.handler(args))
    except (ConfigError, StoreError) as error:
        print(f"pupitre: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # never a traceback for the operator: it goes to the log, without locals
        return crashed(args, error)


def crashed(args: argparse.Namespace, error: Exception) -> int:
    """Log ``error``, say so in one sentence, and return the command's crash code: ``check``
    answers "unknown" (3) in its own format on stdout (monitoring reads it), the rest 70."""
    if args.handler is cmd_check:
        log_crash(error, "pupitre check")
        sentence = crash_sentence(error, "pupitre check")
        if args.json:
            import json

            report = {"status": "unknown", "exit_code": EXIT_CHECK_UNKNOWN, "error": sentence}
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print(f"pupitre check — UNKNOWN: {sentence.removeprefix('pupitre: ')}")
        return EXIT_CHECK_UNKNOWN
    where = f"pupitre {args.command}" if getattr(args, "command", None) else "pupitre"
    log_crash(error, where)
    print(crash_sentence(error, where), file=sys.stderr)
    return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())
