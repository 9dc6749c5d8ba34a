"""Fixtures of the unit tests: the store on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pupitre.providers.core.store import Store

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each store test runs on SQLite and on a real PostgreSQL started by the test run."""
    return str(request.param)


@pytest.fixture
def new_store(request: pytest.FixtureRequest, store_backend: str, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens the test's store (a SQLite file, or a fresh PostgreSQL database); each call is
    another connection to the same store, as another process would open it."""
    if store_backend == "sqlite":
        path = tmp_path / "s.sqlite3"

        def factory() -> Store:
            return Store(path)
    else:
        from pupitre.providers.core.store_pg import PostgresStore

        url = request.getfixturevalue("postgres_url")

        def factory() -> Store:
            return PostgresStore(url)

    opened: list[Store] = []

    def open_store() -> Store:
        opened.append(factory())
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def any_store(new_store: Callable[[], Store]) -> Store:
    """The test's store, opened once, on each backend."""
    return new_store()
