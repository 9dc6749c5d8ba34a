"""The log (issue 18): ISO 8601 times with their offset, ``--log-level`` / ``PUPITRE_LOG_LEVEL``,
every failed call logged once with its cause; and the dashboard refusing to paint without a
terminal (cron)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from pupitre import cli
from pupitre.logs import setup_logging
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.errors import NetworkError, ServerError
from pupitre.providers.core.http import make_http_client
from pupitre.providers.core.retry import NO_RETRY, RetryPolicy
from tests.terminal import REPO, subprocess_env


@pytest.fixture(autouse=True)
def restore_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PUPITRE_LOG_LEVEL", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    httpx_level = logging.getLogger("httpx").level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


ISO_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) WARNING pupitre\.test: hello$")


def test_times_are_iso_8601_with_the_paris_offset(tmp_path: Path) -> None:
    path = tmp_path / "pupitre.log"
    setup_logging(path)
    before = dt.datetime.now(dt.timezone.utc)
    logging.getLogger("pupitre.test").warning("hello")
    (line,) = path.read_text().splitlines()
    match = ISO_LINE.match(line)
    assert match, line
    stamp = dt.datetime.fromisoformat(match.group(1))
    assert stamp.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))  # Paris, CET or CEST
    assert abs((stamp - before).total_seconds()) < 5


@pytest.mark.parametrize(
    ("argv", "env", "level"),
    [
        (["config", "path"], None, logging.INFO),
        (["config", "path"], "debug", logging.DEBUG),
        (["config", "path"], "WARNING", logging.WARNING),
        (["--log-level", "error", "config", "path"], "debug", logging.ERROR),  # the option wins
    ],
)
def test_log_level_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], env: str | None, level: int
) -> None:
    if env is not None:
        monkeypatch.setenv("PUPITRE_LOG_LEVEL", env)
    assert cli.main(argv) == 0
    assert logging.getLogger().level == level
    assert logging.getLogger("httpx").level == logging.WARNING  # its lines carry query strings: never below


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PUPITRE_LOG_LEVEL", "loud")
    assert cli.main(["config", "path"]) == 2
    assert "PUPITRE_LOG_LEVEL='loud'" in capsys.readouterr().err


class _Client(ApiClient):
    provider = "Test API"


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("pupitre") and r.levelno >= logging.WARNING]


async def test_a_failed_answer_is_logged_once_with_its_status(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={"message": "down"}))
    caplog.set_level(logging.INFO)
    async with make_http_client(transport=transport) as http:
        client = _Client(http, "https://api.example.com/v1", None, retry=RetryPolicy(attempts=2, base_delay=0))
        with pytest.raises(ServerError):
            await client.get_json("/things?id=SECRET", dict)
    # two attempts, two failed calls: each logged once, with its status, without the query
    logged = failures(caplog)
    assert len(logged) == 2 and not any("SECRET" in r.getMessage() for r in caplog.records if r.name == "pupitre.http")
    assert all(
        re.fullmatch(r"GET api\.example\.com/v1/things -> 503 in \d+ ms: failed \(HTTP 503\)", m) for m in logged
    )


async def test_a_call_without_an_answer_is_logged_once_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    caplog.set_level(logging.INFO)
    async with make_http_client(transport=httpx.MockTransport(refuse)) as http:
        client = _Client(http, "https://api.example.com/v1", None, retry=NO_RETRY)
        with pytest.raises(NetworkError):
            await client.get_json("/things", dict)
    assert failures(caplog) == [
        "GET api.example.com/v1/things failed: Test API: network error (ConnectError) "
        "(ConnectError: [Errno 111] Connection refused)"
    ]


def test_the_dashboard_without_a_terminal_exits_with_a_message(tmp_path: Path) -> None:
    """From cron (no terminal), ``pupitre`` says why and exits 2 instead of painting into the file."""
    result = subprocess.run(
        [sys.executable, "-m", "pupitre", "--sandbox"],
        env=subprocess_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == cli.EXIT_NO_TERMINAL == 2
    assert result.stdout == b""  # no escape code painted
    assert b"needs a terminal" in result.stderr and b"pupitre check" in result.stderr
