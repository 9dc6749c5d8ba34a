"""The ``pupitre config`` and ``pupitre secrets`` subcommands (argparse, no Textual).

``add_subcommands(subparsers)`` registers them; each parser sets ``handler`` to a
function ``(args) -> int``. Handlers print :class:`ConfigError` on stderr and return 2
(no traceback), so ``cli.py`` only needs ``return args.handler(args)``.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
from typing import Any, Callable

from pupitre.providers.core import config
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.secrets import SecretStore, check_secret_name, env_var

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def _err(message: str) -> None:
    print(f"pupitre: {message}", file=sys.stderr)


def handles_config_errors(handler: Handler) -> Handler:
    """Turn :class:`ConfigError` into a message on stderr and exit code 2."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigError as exc:
            _err(str(exc))
            return EXIT_CONFIG
        except KeyboardInterrupt:
            _err("interrupted")
            return EXIT_INTERRUPTED

    return wrapper


def _print_notice(store: SecretStore) -> None:
    notice = store.notice()
    if notice:
        print(f"note: {notice}", file=sys.stderr)


# -- config ----------------------------------------------------------------------------
@handles_config_errors
def cmd_config_path(args: argparse.Namespace) -> int:
    """Print the settings file path (``--all``: every file pupitre uses)."""
    if not args.all:
        print(config.settings_path())
        return EXIT_OK
    for label, path in (
        ("settings", config.settings_path()),
        ("credentials", config.credentials_path()),
        ("store", config.store_path()),
        ("log", config.log_path()),
    ):
        state = "exists" if path.exists() else "not created yet"
        print(f"{label:<12} {path}  ({state})")
    return EXIT_OK


@handles_config_errors
def cmd_config_show(args: argparse.Namespace) -> int:
    path = config.settings_path()
    settings = config.load_settings(path)
    store = SecretStore()
    origin = "" if path.exists() else "  (not present: defaults)"
    print(f"# settings file: {path}{origin}")
    print(config.show_settings(settings, store), end="")
    _print_notice(store)
    return EXIT_OK


@handles_config_errors
def cmd_config_check(args: argparse.Namespace) -> int:
    """Check the settings file completely (every problem with its line) and the TLS / proxy
    environment variables; exit 2 if anything is wrong."""
    from pupitre.providers.core.tls import environment_problems

    path = config.settings_path()
    _settings, problems = config.check_settings(path)
    if problems:
        print(config.format_problems(path, problems), file=sys.stderr)
    network = environment_problems()
    if network:
        print("environment (TLS and proxies):\n" + "\n".join(f"  {problem}" for problem in network), file=sys.stderr)
    if problems or network:
        return EXIT_CONFIG
    origin = "" if path.exists() else " (not present: the defaults apply)"
    print(f"settings OK: {path}{origin}")
    return EXIT_OK


@handles_config_errors
def cmd_keys(args: argparse.Namespace) -> int:
    """Every key binding id with its default key, the remapped key and what it does."""
    from pupitre import keymap

    path = config.settings_path()
    settings, problems = config.check_settings(path)
    remaps = dict(settings.app.keys) if settings is not None else {}
    if problems:
        print(config.format_problems(path, problems), file=sys.stderr)
        print("(showing the default keys)", file=sys.stderr)
    rows = [("id", "where", "key", "remapped", "action")] + list(keymap.rows(remaps))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    print(
        f'\nRemap in {config.display_path(path)}: [app] keys = {{ "feeds.refresh" = "f5" }} '
        '(several keys: "f5,ctrl+r"). Textual\'s own keys: ctrl+q quits, ctrl+p opens the command palette.'
    )
    return EXIT_CONFIG if problems else EXIT_OK


@handles_config_errors
def cmd_config_edit(args: argparse.Namespace) -> int:
    path = config.settings_path()
    config.edit_settings(path)
    print(f"settings OK: {path}")
    return EXIT_OK


# -- secrets ---------------------------------------------------------------------------
def _read_value(args: argparse.Namespace) -> str:
    if args.from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    try:
        return getpass.getpass(f"{args.provider} {args.name} (not echoed): ")
    except EOFError:
        return ""


@handles_config_errors
def cmd_secrets_set(args: argparse.Namespace) -> int:
    check_secret_name(args.provider, args.name)
    value = _read_value(args)
    if not value:
        _err("empty value: nothing stored")
        return EXIT_FAILED
    store = SecretStore()
    where = store.set(args.provider, args.name, value)
    print(f"stored {args.provider}.{args.name} in {where}")
    variable = env_var(args.provider, args.name)
    if store.env.get(variable):
        print(f"note: {variable} is set in this environment and takes precedence", file=sys.stderr)
    _print_notice(store)
    return EXIT_OK


@handles_config_errors
def cmd_secrets_delete(args: argparse.Namespace) -> int:
    check_secret_name(args.provider, args.name)
    store = SecretStore()
    removed = store.delete(args.provider, args.name)
    if removed:
        print(f"removed {args.provider}.{args.name} from {', '.join(removed)}")
    else:
        print(f"{args.provider}.{args.name} was not stored")
    variable = env_var(args.provider, args.name)
    if store.env.get(variable):
        print(f"note: {variable} is still set in this environment", file=sys.stderr)
    return EXIT_OK


@handles_config_errors
def cmd_secrets_where(args: argparse.Namespace) -> int:
    store = SecretStore()
    width = max(len(f"{p}.{n}") for p, names in config.REQUIRED_SECRETS.items() for n in names)
    for provider, names in config.REQUIRED_SECRETS.items():
        for name in names:
            print(f"{provider + '.' + name:<{width}}  {store.source(provider, name)}")
    _print_notice(store)
    return EXIT_OK


# -- wiring ----------------------------------------------------------------------------
def _secret_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", help=f"one of: {', '.join(config.REQUIRED_SECRETS)}")
    parser.add_argument("name", help="secret name, e.g. key_passphrase (see `secrets where`)")


def add_subcommands(subparsers: Any) -> None:
    """Register ``config path|show|check|edit``, ``keys`` and ``secrets set|delete|where``."""
    cfg = subparsers.add_parser("config", help="settings file: path, show, check, edit")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="{path,show,check,edit}", required=True)
    path = cfg_sub.add_parser("path", help="print the settings file path")
    path.add_argument("--all", action="store_true", help="also the credentials file and store")
    path.set_defaults(handler=cmd_config_path)
    cfg_sub.add_parser("show", help="effective settings and where each secret comes from").set_defaults(
        handler=cmd_config_show
    )
    cfg_sub.add_parser(
        "check", help="check the settings completely: every problem with its line (exit 0 fine, 2 invalid)"
    ).set_defaults(handler=cmd_config_check)
    cfg_sub.add_parser("edit", help="open the settings in $VISUAL/$EDITOR, then check them").set_defaults(
        handler=cmd_config_edit
    )
    subparsers.add_parser(
        "keys", help="every key binding id: default key, remapped key, action (for [app] keys)"
    ).set_defaults(handler=cmd_keys)

    sec = subparsers.add_parser("secrets", help="store secrets outside the settings file")
    sec_sub = sec.add_subparsers(dest="secrets_command", metavar="{set,delete,where}", required=True)
    set_ = sec_sub.add_parser("set", help="store a secret (prompted, not echoed)")
    _secret_args(set_)
    set_.add_argument(
        "--from-stdin", action="store_true", help="read the value from one line of standard input (for scripts)"
    )
    set_.set_defaults(handler=cmd_secrets_set)
    delete = sec_sub.add_parser("delete", help="remove a stored secret")
    _secret_args(delete)
    delete.set_defaults(handler=cmd_secrets_delete)
    sec_sub.add_parser("where", help="where each secret comes from (never its value)").set_defaults(
        handler=cmd_secrets_where
    )


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (tests; ``cli.py`` wires :func:`add_subcommands` itself)."""
    parser = argparse.ArgumentParser(prog="pupitre")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
