"""``pupitre outbox`` and ``pupitre audit``: the operator's view of every environment's actions
and audit lines, and the decision on actions *held* since the store's upgrade (no Textual).

Actions queued before pupitre kept environments apart cannot say whether they were meant for
the simulator or the real API: they are held, never sent automatically, until the operator
releases one to an environment (``release ID --to sandbox|real``: sent at the next start of
pupitre in that mode) or drops it (``drop ID``: never sent). Both decisions are audited.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from pupitre.providers.core import config
from pupitre.providers.core.environments import SANDBOX_ENVIRONMENT, UNATTRIBUTED, Environment, label_of
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.store import OUTBOX_DROPPED, OUTBOX_HELD, OUTBOX_PENDING, OutboxItem, Store

EXIT_OK = 0
EXIT_FAILED = 1


def _store() -> Store:
    return Store(config.store_path())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).astimezone()


def _titles() -> dict[str, str]:
    from pupitre.runtime import PROVIDERS

    return {name: module.TITLE for name, module in PROVIDERS.items()}


def _line(item: OutboxItem, titles: dict[str, str]) -> str:
    status = item.status.upper() if item.status in (OUTBOX_HELD, OUTBOX_PENDING) else item.status
    error = f" — last error: {item.last_error}" if item.last_error else ""
    return (
        f"#{item.id:<5} {status:<10} {titles.get(item.provider, item.provider)} · {item.action} · "
        f"queued {item.created_at:%d/%m %H:%M} · {label_of(item.env)}{error}"
    )


def cmd_outbox_list(args: argparse.Namespace) -> int:
    """Held and pending actions of every environment (``--all``: every action)."""
    store, titles = _store(), _titles()
    try:
        items = store.outbox_any_environment()
    finally:
        store.close()
    if not args.all:
        items = [i for i in items if i.status in (OUTBOX_HELD, OUTBOX_PENDING)]
    if not items:
        print("No held or pending action." if not args.all else "The outbox is empty.")
        return EXIT_OK
    for item in items:
        print(_line(item, titles))
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


def cmd_audit(args: argparse.Namespace) -> int:
    """The audit log with the environment of every line: this mode's environments, or all."""
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import PROVIDERS, declared, environment_of

    store = _store()
    try:
        if not args.all:
            settings = config.load_settings()
            secrets = SecretStore()
            force = args.sandbox or settings.app.sandbox
            store.bind_environments(
                {
                    name: environment_of(name, settings, sandboxed=force or not declared(name, settings, secrets)).id
                    for name in PROVIDERS
                }
            )
        entries = store.audit_entries(limit=args.limit, all_environments=args.all)
    finally:
        store.close()
    titles = _titles()
    for entry in reversed(entries):
        print(
            f"{entry.at[:19]}  [{label_of(entry.env)}]  {titles.get(entry.provider, entry.provider)} · "
            f"{entry.action} · {entry.outcome}  {entry.detail}"
        )
    if not entries:
        print("No audit line.")
    return EXIT_OK


def add_subcommands(subparsers: Any) -> None:
    """Register ``outbox [list|release|drop]`` and ``audit``."""
    outbox = subparsers.add_parser("outbox", help="held and pending actions of every environment; release or drop")
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

    audit = subparsers.add_parser("audit", help="the audit log, with the environment of every line")
    audit.add_argument("--all", action="store_true", help="every environment's lines (default: this mode's)")
    audit.add_argument("--sandbox", action="store_true", help="the sandbox's lines (as `pupitre --sandbox`)")
    audit.add_argument("-n", "--limit", type=int, default=50, help="how many lines (newest; default 50)")
    audit.set_defaults(handler=cmd_audit)
