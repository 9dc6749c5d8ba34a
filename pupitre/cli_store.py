"""``pupitre store check|backup|migrate``: the SQLite store's integrity, a consistent copy, and the
schema's upgrade (no Textual).

``check`` runs ``PRAGMA integrity_check`` on a read-only connection and exits 0 when the
store is sound, 1 with the findings when it is damaged, 2 when it cannot be read at all.
``backup [PATH]`` copies it with SQLite's backup API, safe while a dashboard writes to it
(default: ``<data dir>/backups/pupitre-<timestamp>.sqlite3``, user-only). ``migrate`` brings the
store to this pupitre's schema: the team's PostgreSQL database (which consoles never upgrade on
their own), or the local file (upgraded at every start anyway, after a backup).
With a PostgreSQL store, ``check`` and ``backup`` are the server's business (``pg_dump``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import Any

from pupitre.providers.core import config
from pupitre.providers.core.store import StoreError, backup, disk_problem, integrity_check

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNREADABLE = 2
MAX_FINDINGS = 20


def _team_store() -> str:
    """The PostgreSQL store's URL when one is configured, else ""."""
    from pupitre.runtime import store_url

    return store_url(config.load_settings())


def _not_for_postgres(url: str, what: str) -> int:
    from pupitre.providers.core.store_pg import redact

    print(
        f"pupitre: the store is the PostgreSQL database {redact(url)}: {what} is the server's "
        "(pg_dump, pg_amcheck), not pupitre's",
        file=sys.stderr,
    )
    return EXIT_UNREADABLE


def cmd_store_migrate(args: argparse.Namespace) -> int:
    url = _team_store()
    if url:
        from pupitre.providers.core.store_pg import PostgresStore

        store = PostgresStore(url, migrate=True)
        before, after = store.migrate()
        store.close()
        where = store.location
    else:
        from pupitre.providers.core.store import Store

        sqlite = Store(config.store_path())  # upgraded (after a backup) as it opens
        before = after = sqlite.schema_version
        sqlite.close()
        where = str(config.store_path())
    print(f"{where}: schema {after}" + (" (already)" if before == after else f" (was {before})"))
    return EXIT_OK


def cmd_store_check(args: argparse.Namespace) -> int:
    url = _team_store()
    if url:
        return _not_for_postgres(url, "checking its integrity")
    path = config.store_path()
    try:
        findings = integrity_check(path)
    except (StoreError, sqlite3.Error, OSError) as error:
        print(f"pupitre: the store {path} cannot be read: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    if not findings:
        print(f"{path}: ok (PRAGMA integrity_check)")
        return EXIT_OK
    findings = [line for finding in findings for line in finding.splitlines() if line.strip()]
    print(f"{path}: DAMAGED — {len(findings)} finding(s) of PRAGMA integrity_check:")
    for finding in findings[:MAX_FINDINGS]:
        print(f"  {finding}")
    if len(findings) > MAX_FINDINGS:
        print(f"  … and {len(findings) - MAX_FINDINGS} more")
    print(
        "pupitre moves a damaged store aside at its next start. To recover what it holds: "
        f"sqlite3 {path} .recover | sqlite3 {path}.recovered"
    )
    return EXIT_DAMAGED


def cmd_store_backup(args: argparse.Namespace) -> int:
    url = _team_store()
    if url:
        return _not_for_postgres(url, "a backup")
    source = config.store_path()
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = Path(args.path).expanduser() if args.path else config.data_dir() / "backups" / f"pupitre-{stamp}.sqlite3"
    if target.is_dir():
        target = target / f"pupitre-{stamp}.sqlite3"
    if target.exists():
        print(f"pupitre: {target} exists; give another path", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        backup(source, target)
    except StoreError as error:
        print(f"pupitre: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except (sqlite3.Error, OSError) as error:
        print(f"pupitre: cannot back up {source} to {target}: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(target)
    return EXIT_OK


def add_store_subcommands(subparsers: Any) -> None:
    store = subparsers.add_parser("store", help="the store: integrity check, backup, schema upgrade")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    store_sub.add_parser(
        "check", help="verify the store's integrity (exit 0 sound, 1 damaged, 2 unreadable)"
    ).set_defaults(handler=cmd_store_check)
    copy = store_sub.add_parser("backup", help="write a consistent copy (safe while a dashboard runs)")
    copy.add_argument("path", nargs="?", help="file or directory (default: <data dir>/backups/)")
    copy.set_defaults(handler=cmd_store_backup)
    store_sub.add_parser(
        "migrate", help="upgrade the store's schema (the team's PostgreSQL database: once, by its owner role)"
    ).set_defaults(handler=cmd_store_migrate)
