"""Hostile API text (the simulators' ``hostile`` switch) in ``pupitre check`` (text and
JSON), an export file and the log: shown as visible text, never as a control character.
The screens are covered by ``tests/tui/test_hostile_text.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Iterator

import pytest

from pupitre import check
from pupitre.logs import setup_logging
from pupitre.providers.core.certs import sandbox_credentials
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import HOSTILE_TEXT
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grtgaz import export
from pupitre.providers.grtgaz.models import Flex
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

NOW = dt.datetime(2025, 1, 15, 10, 30, tzinfo=PARIS)
#: Every character of HOSTILE_TEXT that would act on a terminal (the newline aside).
CONTROLS = {c for c in HOSTILE_TEXT if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066\u2069"}


def assert_no_control(text: str, where: str) -> None:
    found = {c for c in text if c in CONTROLS or (ord(c) < 0x20 and c != "\n")}
    assert not found, f"{where}: {sorted(map(repr, found))}"


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    (tmp_path / "data").mkdir(mode=0o700)
    sandbox_credentials(tmp_path / "data" / "sandbox", "grtgaz")
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    plan = FaultPlan()
    plan.add("*", "hostile")
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(NOW),
        data_dir=tmp_path / "data",
        faults=plan,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "config" / "c.toml", env={}),
    )
    # findings that quote API text: a RED site (its label), rights awaiting proofs (holders)
    runtime.simulators["grtgaz"].schedule("LI1003", Flex.Q_TO_QPLUS, "RED", dt.datetime(2025, 1, 15, 9, 52))
    yield runtime
    runtime.store.close()


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging()
    yield tmp_path / "data" / "pupitre.log"
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = handlers, level


@pytest.mark.parametrize("fmt", check.FORMATS)
def test_check_output(runtime: Runtime, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    check.main(runtime, fmt=fmt)
    out = capsys.readouterr().out
    assert_no_control(out, "check")
    if fmt == "json":
        report = json.loads(out)  # still valid JSON
        assert_no_control(json.dumps(report, ensure_ascii=False), "check --json, decoded")
    if fmt != "prometheus":  # metrics carry ids and states, not the sites' names
        assert "␛]0;PWNED␇" in out  # the API text is there, made visible


async def test_export_file(runtime: Runtime, tmp_path: Path) -> None:
    client = runtime.connections["grtgaz"].session.client
    rebuilt = await client.rebuilt_hms_profile("LI1003", NOW.date())
    assert "␛]0;PWNED␇" in rebuilt.hmsSiteLabel
    program = export.EmailProgram(
        f"{rebuilt.hmsProfileId}-{rebuilt.connectionContractCode or 'C1'}-1",
        rebuilt.gasDay,
        rebuilt.hmsSiteId,
        rebuilt.hmsSiteLabel,  # as GRTgaz sent it
        0.0,
        1e6,
        tuple(float(q or 0) for q in rebuilt.quantities),
    )
    done = export.export_program(program, tmp_path / "out", dt.datetime(2025, 1, 15, 10, 31))
    text = done.path.read_text(encoding="utf-8")
    assert_no_control(text.replace("\r\n", "\n"), "export")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert "␛]0;PWNED␇" in rows[1][3]
    await runtime.aclose()


def test_log(runtime: Runtime, log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check.main(runtime)
    logging.getLogger("pupitre.test").warning("site label %s", HOSTILE_TEXT)
    try:
        raise ValueError(HOSTILE_TEXT)
    except ValueError:
        logging.getLogger("pupitre.test").exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert_no_control(text, "log")
    assert "site label  ␛]0;PWNED␇" in text and "ValueError:  ␛]0;PWNED␇" in text
