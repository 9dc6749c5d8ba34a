"""The ``pupitre`` command. Heavy imports (Textual, the simulators) happen only where needed.

pupitre [--sandbox] [--log-level LEVEL]   open the dashboard (needs a terminal)
pupitre check [--json|--format F] [--max-age S] [--force] [--timeout S]
                                  the daily checks as a monitoring probe; exit 0 / 1 / 2 / 3
pupitre agent [--sandbox]         headless: every feed on its schedule, the outbox, until SIGTERM
pupitre config path|show|check|edit  settings (check: every problem with its line)
pupitre keys                      every key binding id, its key and remapped key
pupitre secrets set|delete|where  secrets (keyring or user-only credentials file)
pupitre store check|backup [PATH]  the local store's integrity; a consistent copy
pupitre store migrate             upgrade the store's schema (the team's PostgreSQL database)
pupitre sandbox serve             serve the simulators on loopback
pupitre sandbox reset             start the simulated world of this data dir afresh
pupitre sandbox scenarios         the training scenarios (pupitre --sandbox --scenario NAME [--speed N])
pupitre outbox [release|drop]     held and pending actions of every environment
pupitre audit [--since] [--provider] [--outcome] [--json|--csv]
                                  the audit log, with each line's environment and who
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Any, Callable, Iterator, NoReturn

from pupitre import __version__
from pupitre.crash import EXIT_CHECK_UNKNOWN, EXIT_CRASH, crash_hook, crash_sentence, log_crash

EXIT_ERROR = 2
#: The dashboard started without a terminal (e.g. from cron): refused at start, like bad settings.
EXIT_NO_TERMINAL = 2
#: The dashboard's housekeeping waits for its start (first frame, the team store's connection).
PRUNE_AFTER_SECONDS = 5.0
LOG_LEVELS = ("debug", "info", "warning", "error")
log = logging.getLogger("pupitre")
#: The collector's thresholds while a command starts: start-up allocates hundreds of thousands of
#: objects that live as long as the process (modules, classes, schemas, simulators), and Python's
#: default (a collection every 700) runs about a hundred collections in a check that fetches
#: (~20 ms); one every 20,000 still ran a dozen before the dashboard's first frame (~15 ms, the
#: same peak memory as one every million). Short commands keep them to the end; long-running ones
#: go back to :data:`STEADY_GC` once started (:func:`steady_gc`). Importing this module imports
#: nothing else of pupitre's but :mod:`pupitre.crash`: the commands' imports run in :func:`main`,
#: at this pace.
START_UP_GC = (1_000_000, 100, 100)
STEADY_GC = gc.get_threshold()


def steady_gc() -> None:
    """Python's usual collection pace, for a command that runs for long (dashboard, agent, server)."""
    gc.set_threshold(*STEADY_GC)


class UsageError(Exception):
    """The command line cannot be parsed (argparse's message)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting 2, so that
    ``pupitre check`` can answer UNKNOWN (3) in its own format, as a monitoring probe must."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _runtime(args: argparse.Namespace, settings: Any = None, *, dashboard: bool = False) -> Any:
    from pupitre.runtime import build_runtime

    clock = scenario = start = None
    chosen, speed = getattr(args, "scenario", None), getattr(args, "speed", None)
    if getattr(args, "clock", None) or chosen or speed:
        import datetime as dt

        from pupitre.providers.core.clock import PARIS, ManualClock
        from pupitre.providers.core.errors import ConfigError

        if not args.sandbox:
            raise ConfigError("--clock, --scenario and --speed only work with --sandbox: real APIs live in real time")
        start = dt.datetime.now(PARIS)
        if getattr(args, "clock", None):
            try:
                start = dt.datetime.fromisoformat(args.clock)
            except ValueError:
                raise ConfigError(f"--clock wants a Paris time like 2026-11-18T15:50, not {args.clock!r}") from None
        if chosen:
            from pupitre.providers.core.scenarios import load

            scenario = load(chosen)
            start = scenario.start_at(start)
        clock = ManualClock(start, running=True, speed=speed or 1.0)
    runtime = build_runtime(settings, sandbox=args.sandbox, clock=clock, training_day=True, dashboard=dashboard)
    if scenario is not None and start is not None:
        runtime.play(scenario, start)
    return runtime


def has_terminal() -> bool:
    """Whether the dashboard can paint: stdin and stdout are both terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_run(args: argparse.Namespace) -> int:
    from pupitre.providers.core import config

    settings = config.load_settings()  # invalid settings are said first, with or without a terminal
    if not has_terminal():  # cron, a pipe, a redirected file: never paint escape codes there
        print(
            "pupitre: the dashboard needs a terminal (stdin and stdout are not both terminals, e.g. under cron); "
            "without the UI use `pupitre check` (see `pupitre check --help`)",
            file=sys.stderr,
        )
        return EXIT_NO_TERMINAL
    runtime = _runtime(args, settings, dashboard=True)
    runtime.start_pruning(after=PRUNE_AFTER_SECONDS)  # once the dashboard has painted and connected
    from pupitre.tui.app import PupitreApp

    app = PupitreApp(runtime, start_screen=args.screen, started=steady_gc)  # the start's pace to its first frame
    app.run()
    if app.crashed is not None:  # logged by the app; the terminal is restored by now
        print(crash_sentence(app.crashed, "the dashboard"), file=sys.stderr)
        return EXIT_CRASH
    if app.store_refused is not None:  # said as a store error at start would be
        raise app.store_refused
    return app.return_code or 0


def check_format(args: argparse.Namespace) -> str:
    """``pupitre check``'s output format (``--json`` is ``--format json``)."""
    return "json" if getattr(args, "json", False) else getattr(args, "format", None) or "text"


def cmd_check(args: argparse.Namespace) -> int:
    from pupitre import check

    options = check.Options(max_age=args.max_age, force=args.force, timeout=args.timeout)
    runtime = _runtime(args)
    runtime.start_pruning()
    return check.main(runtime, fmt=check_format(args), options=options)


def check_unknown(fmt: str, sentence: str) -> int:
    """``pupitre check`` could not run (settings, store, usage, crash): UNKNOWN (3), printed on
    stdout in the asked format (monitoring reads it there)."""
    from pupitre import check

    report = check.unknown_report(sentence)
    print(check.render(report, fmt), end="" if fmt == "prometheus" else "\n")
    return EXIT_CHECK_UNKNOWN


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def _speed(text: str) -> float:
    """A clock speed > 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a speed: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"the speed must be > 0, not {text!r}")
    return value


def cmd_agent(args: argparse.Namespace) -> int:
    from pupitre import agent

    runtime = _runtime(args)
    steady_gc()
    return agent.main(runtime)


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

    steady_gc()
    return serve(host=args.host, port=args.port, faults=args.fault or [])


def cmd_sandbox_scenarios(args: argparse.Namespace) -> int:
    """``pupitre sandbox scenarios``: the shipped training scenarios, one line each."""
    from pupitre.providers.core.scenarios import shipped

    known = shipped()
    width = max(len(name) for name in known)
    for name, scenario in known.items():
        print(f"{name:<{width}}  {scenario.title}: {scenario.summary}")
    return 0


def cmd_sandbox_reset(args: argparse.Namespace) -> int:
    """``pupitre sandbox reset``: the simulated world of this data dir starts afresh."""
    from pupitre.providers.core import config
    from pupitre.providers.core.sandbox_world import reset, world_path

    data_dir = config.data_dir()
    if reset(data_dir):
        print(
            f"pupitre: the sandbox world in {world_path(data_dir)} starts afresh "
            "(for the sandbox processes started from now: restart the running ones)"
        )
    else:
        print(f"pupitre: no sandbox world yet in {data_dir} (nothing to reset)")
    return 0


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


class _ScreenNames:
    """``--screen``'s choices, read from the screen registry when a ``--screen`` is checked or
    the usage is printed: a command that is not the dashboard does not import it."""

    def _names(self) -> list[str]:
        from pupitre.tui import registry

        return [entry.name for entry in registry.modes()]

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


class _Unused:
    """Stands for a subcommand's parser that this command line does not need: takes every
    call (arguments, nested subcommands, defaults) and builds nothing."""

    def __getattr__(self, name: str) -> Callable[..., "_Unused"]:
        return lambda *args, **kwargs: self


#: :func:`build_parser`'s command for the dashboard's own command line: no subcommand's parser.
DASHBOARD = ""


class _Subcommands:
    """The subcommands action, building only the parser of ``command`` (``None``: all of them;
    :data:`DASHBOARD`: none): each parser costs argparse's set-up (~0.3 ms), paid by every
    start for every command."""

    def __init__(self, action: Any, command: str | None) -> None:
        self.action = action
        self.command = command
        self.built = False

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self.command is not None and name != self.command:
            return _Unused()
        self.built = True
        return self.action.add_parser(name, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command`` (a subcommand's name), that subcommand's
    only (the whole parser when no subcommand has that name, for argparse's own message);
    :data:`DASHBOARD`: the top-level options only. The subcommands' modules are imported here,
    not with this one: :func:`main` imports them at :data:`START_UP_GC`'s pace (at Python's,
    their ~150 ms of imports ran 60 collections)."""
    from pupitre import cli_outbox
    from pupitre.cli_config import add_subcommands
    from pupitre.cli_store import add_store_subcommands

    parser = _Parser(
        prog="pupitre", description="Control-room dashboard for French energy APIs (GRTgaz, EDF OA, GRDF, Switchgrid)."
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--sandbox", action="store_true", help="run every provider on its built-in simulator")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=None,
        help="what the log keeps (default: info, or PUPITRE_LOG_LEVEL)",
    )
    parser.add_argument(
        "--clock",
        metavar="YYYY-MM-DDTHH:MM",
        help="with --sandbox: start the simulated day at this Paris time (demos, training)",
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME",
        help="with --sandbox: play a training scenario (`pupitre sandbox scenarios`; or a .toml file)",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        metavar="N",
        help="with --sandbox: run the simulated clock N times faster",
    )
    parser.add_argument(
        "--screen",
        default="overview",
        choices=_ScreenNames(),
        help="the screen to open first (default: overview)",
    )
    parser.set_defaults(handler=cmd_run)
    sub: Any = _Subcommands(parser.add_subparsers(dest="command", metavar="COMMAND"), command)
    check = sub.add_parser(
        "check",
        help="the daily checks as a monitoring probe (exit 0 OK, 1 warning, 2 critical, 3 unknown)",
        description="The daily checks without the UI, as a Nagios/Icinga plugin: exit 0 OK, 1 WARNING "
        "(attention), 2 CRITICAL, 3 UNKNOWN (settings, store, usage, an unexpected error, a provider not "
        "read within its time).",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output (= --format json)")
    check.add_argument("--format", choices=("text", "json", "nagios", "prometheus"), default=None, help="output format")
    # SUPPRESS: `pupitre --sandbox check` and `pupitre check --sandbox` mean the same (the
    # subcommand's own default must not override the top-level flag)
    check.add_argument("--sandbox", action="store_true", default=argparse.SUPPRESS, help="check against the simulators")
    check.add_argument(
        "--clock", metavar="YYYY-MM-DDTHH:MM", default=argparse.SUPPRESS, help="with --sandbox: the simulated time"
    )
    check.add_argument(
        "--max-age",
        type=_seconds,
        metavar="SECONDS",
        help="answer from the store what was read less than SECONDS ago; read only what is older",
    )
    check.add_argument(
        "--force", action="store_true", help="read everything, the documents' recommended frequencies aside"
    )
    check.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="answer within SECONDS (each feed's time budget is cut to fit; a read cut short is partial)",
    )
    check.set_defaults(handler=cmd_check)
    agent = sub.add_parser(
        "agent", help="headless: poll every feed on its schedule and deliver the outbox, until SIGTERM (team mode)"
    )
    agent.add_argument("--sandbox", action="store_true", help="run every provider on its simulator")
    agent.set_defaults(handler=cmd_agent)
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
    reset = sandbox_sub.add_parser(
        "reset", help="start the simulated world of this data dir afresh (what every sandbox process shares)"
    )
    reset.set_defaults(handler=cmd_sandbox_reset)
    scenarios = sandbox_sub.add_parser(
        "scenarios", help="list the training scenarios (pupitre --sandbox --scenario NAME)"
    )
    scenarios.set_defaults(handler=cmd_sandbox_scenarios)
    if not sub.built and command != DASHBOARD:  # not a subcommand: the whole parser says so
        return build_parser()
    return parser


#: Top-level options that take a value (to find the command in a command line that does not parse).
_VALUED = {"--clock", "--screen", "--log-level"}


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (``None``: the dashboard), read without parsing it."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUED:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def _parser_for(argv: list[str]) -> str | None:
    """What :func:`build_parser` needs for ``argv``: its subcommand, or the dashboard's options
    alone (the whole parser for ``--help``, which lists the subcommands)."""
    command = _command_of(argv)
    if command is None and not {"-h", "--help"} & set(argv):
        return DASHBOARD
    return command


def _format_of(argv: list[str]) -> str:
    """``pupitre check``'s output format, read from a command line that does not parse."""
    if "--json" in argv:
        return "json"
    for i, token in enumerate(argv):
        value = argv[i + 1] if token == "--format" and i + 1 < len(argv) else token.removeprefix("--format=")
        if (token == "--format" or token.startswith("--format=")) and value in ("text", "json", "nagios", "prometheus"):
            return value
    return "text"


def log_level(args: argparse.Namespace) -> str:
    """``--log-level``, else ``PUPITRE_LOG_LEVEL``, else info (an unknown value is refused)."""
    import os

    from pupitre.providers.core.errors import ConfigError

    level = getattr(args, "log_level", None) or os.environ.get("PUPITRE_LOG_LEVEL", "").strip().lower() or "info"
    if level not in LOG_LEVELS:
        raise ConfigError(f"PUPITRE_LOG_LEVEL={level!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
    return level


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's); its exit code."""
    gc.set_threshold(*START_UP_GC)
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        steady_gc()


def run() -> int:
    """The ``pupitre`` command and ``python -m pupitre``: :func:`main`, then what is still alive
    is left to the process's exit (:func:`gc.freeze`): the interpreter's last collection would
    walk it all (~15 ms after a check that fetches) to free memory the exit frees anyway."""
    code = main()
    gc.freeze()
    return code


def _main(argv: list[str]) -> int:
    from pupitre.logs import setup_logging
    from pupitre.providers.core.errors import ConfigError
    from pupitre.providers.core.store import StoreError

    try:
        args = build_parser(_parser_for(argv)).parse_args(argv)
    except UsageError as error:
        if _command_of(argv) == "check":
            return check_unknown(_format_of(argv), f"pupitre: {error}")
        build_parser().print_usage(sys.stderr)
        print(error, file=sys.stderr)
        return EXIT_ERROR
    try:
        setup_logging(level=log_level(args))
        crash_hook("cli")
        return int(args.handler(args))
    except (ConfigError, StoreError) as error:
        if args.handler is cmd_check:
            return check_unknown(check_format(args), f"pupitre: {error}")
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
        return check_unknown(check_format(args), crash_sentence(error, "pupitre check"))
    where = f"pupitre {args.command}" if getattr(args, "command", None) else "pupitre"
    log_crash(error, where)
    print(crash_sentence(error, where), file=sys.stderr)
    return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(run())
