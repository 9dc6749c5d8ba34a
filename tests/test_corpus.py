"""The public documents the tests rely on (``tests/corpus``): every file parses, every file
is accounted for in its ``SOURCES.md``, and every operation a published specification
declares is served by pupitre's simulator at the same method and path."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from starlette.routing import Match, Route

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.grdf_adict.sandbox import AdictSimulator
from pupitre.providers.switchgrid.sandbox import SwitchgridSimulator
from tests.corpus import CORPUS, spec

FILES = sorted(p for p in CORPUS.glob("*/*/*") if p.is_file())
CLOCK = ManualClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))


def test_the_corpus_is_in_the_repository() -> None:
    assert {p.parent.parent.name for p in FILES} == {"grdf-adict", "switchgrid"}
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_file_parses(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        assert json.loads(text)
    elif path.suffix == ".ndjson":
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert lines and all(isinstance(line, dict) for line in lines)
    elif path.suffix == ".csv":
        rows = list(csv.reader(text.splitlines(), delimiter=";" if ";" in text.splitlines()[0] else ","))
        assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)
    else:
        pytest.fail(f"{path.name}: no reader for {path.suffix}")


@pytest.mark.parametrize("provider", ["grdf-adict", "switchgrid"])
def test_every_file_has_its_source(provider: str) -> None:
    sources = (CORPUS / provider / "SOURCES.md").read_text(encoding="utf-8")
    for path in (CORPUS / provider).glob("*/*"):
        assert f"`{path.name}`" in sources, f"{path.name} is not in {provider}/SOURCES.md"


def _operations(document: dict) -> list[tuple[str, str]]:
    base = document.get("basePath") or re.sub(r"^https?://[^/]+", "", document["servers"][0]["url"])
    return [
        (method.upper(), base + path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    ]


def _served(routes: list[Route], method: str, path: str) -> bool:
    concrete = re.sub(r"\{[^}]+\}", "X1", path)
    scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


@pytest.mark.parametrize(
    ("provider", "routes"),
    [
        ("grdf-adict", AdictSimulator(CLOCK, FaultPlan(), park_size=10).routes()),
        ("switchgrid", SwitchgridSimulator(CLOCK, FaultPlan()).routes()),
    ],
    ids=["grdf-adict", "switchgrid"],
)
def test_the_simulator_serves_every_operation_of_the_published_spec(provider: str, routes: list[Route]) -> None:
    document = json.loads(spec(provider).read_text(encoding="utf-8"))
    operations = _operations(document)
    assert len(operations) >= 8
    missing = [f"{method} {path}" for method, path in operations if not _served(routes, method, path)]
    assert not missing, f"{provider} simulator does not serve: {missing}"
