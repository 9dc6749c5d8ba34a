"""``pupitre outbox`` and ``pupitre audit``: the operator's view of every environment's actions
and audit lines, and the decision on actions *held* since the store's upgrade (no Textual).

Actions queued before pupitre kept environments apart cannot say whether they were meant for
the simulator or the real API: they are held, never sent automatically, until the operator
releases one to an environment (``release ID --to sandbox|real``: sent at the next start of
pupitre in that mode) or drops it (``drop ID``: never sent). Both decisions are audited.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import socket
import sys
from typing import Any

from pupitre.providers.core import config
from pupitre.providers.core.environments import SANDBOX_ENVIRONMENT, UNATTRIBUTED, Environment, label_of
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.outbox_words import RECENT_DAYS, OutboxState, needs_operator, state_of, todo_of
from pupitre.providers.core.store import (
    OUTBOX_DROPPED,
    OUTBOX_HELD,
    OUTBOX_PENDING,
    READBACK_OWED,
    OutboxItem,
    Store,
)
from pupitre.providers.core.text import clean_data, csv_cell

EXIT_OK = 0
EXIT_FAILED = 1


def _store() -> Store:
    """The store the dashboards use (the team's PostgreSQL database, or the local file), naming
    the operator (``[app] operator``, else the OS user) and this host in the audit lines it writes."""
    from pupitre.providers.core.leases import operator_name
    from pupitre.runtime import store_url
    from pupitre.settings import Settings

    try:
        settings = config.load_settings()
    except ConfigError:  # invalid settings: the local store, the OS user (the decision is still the operator's)
        settings = Settings()
    url = store_url(settings)
    store: Store
    if url:
        from pupitre.providers.core.store_pg import PostgresStore

        store = PostgresStore(url)
    else:
        store = Store(config.store_path())
    store.bind_operator(f"{operator_name(settings.app.operator)}@{socket.gethostname()}")
    return store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).astimezone()


def _titles() -> dict[str, str]:
    from pupitre.runtime import PROVIDERS

    return {name: module.TITLE for name, module in PROVIDERS.items()}


def _line(item: OutboxItem, titles: dict[str, str]) -> str:
    """``#3     RETRYING     EDF OA · acknowledge · queued 22/11 14:00 · sandbox — last error: …``:
    the state in the words every screen uses (:mod:`pupitre.providers.core.outbox_words`)."""
    state = state_of(item)
    error = f" — last error: {item.last_error}" if item.last_error else ""
    owed = " — READ-BACK OWED (resumed by the next pupitre that runs)" if item.readback == READBACK_OWED else ""
    read = f" · read-back {item.readback}" if item.readback and not owed else ""
    return (
        f"#{item.id:<5} {state.word:<12} {titles.get(item.provider, item.provider)} · {item.action} · "
        f"queued {item.created_at:%d/%m %H:%M} · {label_of(item.env)}{read}{error}{owed}"
    )


def cmd_outbox_list(args: argparse.Namespace) -> int:
    """Held and pending actions, those whose read-back is owed, and those refused (or read back
    different) in the last days, of every environment, each with what to do (``--all``: every
    action)."""
    store, titles = _store(), _titles()
    try:
        items = store.outbox_any_environment()
    finally:
        store.close()
    now = _now()
    if not args.all:
        items = [i for i in items if needs_operator(i, now)]
    if not items:
        print(
            f"No held, pending or failed action (failed: the last {RECENT_DAYS} days)."
            if not args.all
            else "The outbox is empty."
        )
        return EXIT_OK
    for item in items:
        print(_line(item, titles))
        if needs_operator(item, now):  # with --all, the settled ones have nothing to do
            print(f"       → {todo_of(item)}")
    shown = {state_of(i) for i in items} - {OutboxState.HELD}
    for state in OutboxState:  # each word shown, once, in the order of the states
        if state in shown:
            print(f"{state.word}: {state.meaning}.")
    if any(i.status == OUTBOX_HELD for i in items):
        print(
            "HELD: queued before pupitre kept environments apart; never sent automatically. "
            "`pupitre outbox release ID --to sandbox|real` or `pupitre outbox drop ID`."
        )
    return EXIT_OK


def _target(provider: str, to: str) -> Environment:
    """The environment a held action is released to: the simulator, or the provider's real
    endpoint as the settings define it now (refused when it has no real settings)."""
    if to == "sandbox":
        return SANDBOX_ENVIRONMENT
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import declared, environment_of

    settings = config.load_settings()
    if not declared(provider, settings, SecretStore()):
        title = _titles().get(provider, provider)
        raise ConfigError(
            f"{title} has no real settings: nothing to release it to. Fix: `pupitre config edit` ([{provider}])"
        )
    return environment_of(provider, settings, sandboxed=False)


def _held(store: Store, item_id: int) -> OutboxItem:
    item = next((i for i in store.outbox_any_environment() if i.id == item_id), None)
    if item is None or item.status != OUTBOX_HELD:
        state = "no such action" if item is None else f"it is {item.status}, not held"
        raise ConfigError(f"#{item_id}: {state} (`pupitre outbox` lists them)")
    return item


def cmd_outbox_release(args: argparse.Namespace) -> int:
    store = _store()
    try:
        item = _held(store, args.id)
        env = _target(item.provider, args.to)
        note = f"held since the store upgrade; released to {env.label} by the operator"
        if not store.outbox_resolve_held(item.id, OUTBOX_PENDING, env.id, _now(), ""):
            raise ConfigError(f"#{item.id} is no longer held")
        store.audit(item.provider, item.action, "released", _now(), f"#{item.id} {note}", env=env.id)
    finally:
        store.close()
    mode = "pupitre --sandbox" if env.sandboxed else "pupitre (real mode)"
    print(f"#{item.id} released to {env.label}: sent at the next start of {mode}.")
    return EXIT_OK


def cmd_outbox_drop(args: argparse.Namespace) -> int:
    store = _store()
    try:
        item = _held(store, args.id)
        note = "held since the store upgrade; dropped by the operator, never sent"
        if not store.outbox_resolve_held(item.id, OUTBOX_DROPPED, UNATTRIBUTED, _now(), note):
            raise ConfigError(f"#{item.id} is no longer held")
        store.audit(item.provider, item.action, "dropped", _now(), f"#{item.id} {note}", env=UNATTRIBUTED)
    finally:
        store.close()
    print(f"#{item.id} dropped: it will never be sent.")
    return EXIT_OK


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``--since``: a span back from now (``90m``, ``24h``, ``7d``), a day (``2026-12-01``: from
    its midnight) or a moment (``2026-12-01T06:00``), Paris time unless an offset is given."""
    from pupitre.providers.core.clock import PARIS

    now = now or _now()
    text = text.strip()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return now - dt.timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since wants 90m, 24h, 7d, a day (2026-12-01) or a time (2026-12-01T06:00), not {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


AUDIT_COLUMNS = ("at", "who", "environment", "provider", "action", "outcome", "detail")


def cmd_audit(args: argparse.Namespace) -> int:
    """The audit log with the environment and who of every line: this mode's environments, or
    all; filtered by provider, time and outcome; as text, JSON or CSV."""
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import PROVIDERS, declared, environment_of

    if args.provider is not None and args.provider not in PROVIDERS:
        raise ConfigError(f"--provider {args.provider!r} is not a provider: one of {', '.join(PROVIDERS)}")
    store = _store()
    try:
        if not args.all:
            settings = config.load_settings()
            secrets = SecretStore()
            force = getattr(args, "sandbox", False) or settings.app.sandbox
            store.bind_environments(
                {
                    name: environment_of(name, settings, sandboxed=force or not declared(name, settings, secrets)).id
                    for name in PROVIDERS
                }
            )
        limit = args.limit if args.limit is not None else None if args.since is not None else 50
        entries = store.audit_entries(
            args.provider, limit, all_environments=args.all, since=args.since, outcome=args.outcome
        )
    finally:
        store.close()
    titles = _titles()
    rows = [
        {
            "at": entry.at,
            "who": entry.operator,
            "environment": label_of(entry.env),
            "provider": titles.get(entry.provider, entry.provider),
            "action": entry.action,
            "outcome": entry.outcome,
            "detail": entry.detail,
        }
        for entry in reversed(entries)
    ]
    if args.format == "json":
        print(json.dumps(clean_data(rows), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(AUDIT_COLUMNS)
        writer.writerows([csv_cell(row[column]) for column in AUDIT_COLUMNS] for row in rows)
    elif not rows:
        print("No audit line.")
    else:
        for row in clean_data(rows):
            print(
                f"{row['at'][:19]}  {row['who'] or '-'}  [{row['environment']}]  {row['provider']} · "
                f"{row['action']} · {row['outcome']}  {row['detail']}"
            )
    return EXIT_OK


def add_subcommands(subparsers: Any) -> None:
    """Register ``outbox [list|release|drop]`` and ``audit``."""
    outbox = subparsers.add_parser(
        "outbox", help="held and pending actions, owed read-backs, of every environment; release or drop"
    )
    outbox.add_argument("--all", action="store_true", help="every action, delivered and failed ones too")
    outbox.set_defaults(handler=cmd_outbox_list)
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="{list,release,drop}")
    listing = outbox_sub.add_parser("list", help="held and pending actions (default)")
    listing.add_argument("--all", action="store_true", help="every action, delivered and failed ones too")
    listing.set_defaults(handler=cmd_outbox_list)
    release = outbox_sub.add_parser("release", help="send a held action to the simulator or the real API")
    release.add_argument("id", type=int, help="the action's number (#ID)")
    release.add_argument("--to", required=True, choices=["sandbox", "real"], help="the environment it is meant for")
    release.set_defaults(handler=cmd_outbox_release)
    drop = outbox_sub.add_parser("drop", help="never send a held action")
    drop.add_argument("id", type=int, help="the action's number (#ID)")
    drop.set_defaults(handler=cmd_outbox_drop)

    audit = subparsers.add_parser(
        "audit", help="the audit log: every action and operation, with its environment, who and outcome"
    )
    audit.add_argument("--all", action="store_true", help="every environment's lines (default: this mode's)")
    audit.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,  # `pupitre --sandbox audit` means the same
        help="the sandbox's lines (as `pupitre --sandbox`)",
    )
    audit.add_argument("--since", type=parse_since, help="from then on: 90m, 24h, 7d, 2026-12-01, 2026-12-01T06:00")
    audit.add_argument("--provider", help="one provider's lines: grtgaz, edf_oa, grdf_omega, grdf_adict, switchgrid")
    audit.add_argument("--outcome", help="one outcome's lines (e.g. delivered, failed, refused)")
    audit.add_argument(
        "-n", "--limit", type=int, default=None, help="how many lines (newest; default 50, all with --since)"
    )
    shape = audit.add_mutually_exclusive_group()
    shape.add_argument("--json", dest="format", action="store_const", const="json", help="as JSON")
    shape.add_argument("--csv", dest="format", action="store_const", const="csv", help="as CSV")
    audit.set_defaults(handler=cmd_audit, format="text")
