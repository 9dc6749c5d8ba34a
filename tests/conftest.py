"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pupitre.sandbox_server import SandboxServer, build_sandbox
from tests.helpers import PostgresServer


@pytest.fixture
def served(tmp_path: Path) -> Iterator[SandboxServer]:
    """Every simulator served on loopback (real sockets), as `pupitre sandbox serve` does;
    pupitre processes point at it as real providers. A module may refine it by requesting it
    under the same name (a stricter quota, a fault plan setting)."""
    sandbox = build_sandbox("127.0.0.1", 0, [], data_dir=tmp_path / "served")
    sandbox.start_in_thread(timeout=10)
    try:
        yield sandbox
    finally:
        sandbox.plan.clear()
        sandbox.stop(timeout=10)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server, started once per test process (never a mock)."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database of the test run's server, dropped after the test."""
    url = postgres_server.new_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)
