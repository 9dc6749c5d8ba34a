"""A crash is never a success and never a traceback (subprocess tests, the dashboard in a pty).

``PUPITRE_TEST_CRASH=<where>`` makes pupitre raise at that point with a token in a local
variable: the operator must read one sentence with the log's path, the process must exit
non-zero, and the log must hold the traceback without the local variables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pupitre.crash import EXIT_CHECK_UNKNOWN, EXIT_CRASH
from tests.terminal import Step, after_terminal_restored, pupitre, run_in_pty, subprocess_env

TOKEN = "pupitre-test-token-0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(tmp_path)


def assert_logged_without_locals(log: Path, where: str) -> None:
    text = log.read_text()
    assert f"ERROR pupitre.crash: unexpected error in {where}" in text
    assert "Traceback (most recent call last):" in text
    assert "RuntimeError: test crash requested by PUPITRE_TEST_CRASH" in text
    assert TOKEN not in text and "api_token =" not in text  # no local variable


def assert_one_sentence(text: str, where: str, log: Path) -> None:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert lines == [f"pupitre: unexpected error in {where} (RuntimeError), it stopped; details in the log {log}."]


def test_a_crash_in_the_dashboard_restores_the_terminal_and_says_one_sentence(env: dict[str, str]) -> None:
    env["PUPITRE_TEST_CRASH"] = "tui"  # raised by the app's one-second tick, screen painted
    code, output = run_in_pty(["--sandbox"], env)
    log = Path(env["PUPITRE_DATA_DIR"]) / "pupitre.log"
    assert code == EXIT_CRASH
    assert b"\x1b[?1049h" in output and output.count(b"\x1b[?1049l") >= 1  # the screen came and went
    assert_one_sentence(after_terminal_restored(output), "the dashboard", log)
    raw = output.decode("utf-8", "replace")
    assert "Traceback" not in raw and TOKEN not in raw and "api_token" not in raw and "locals" not in raw
    assert_logged_without_locals(log, "the dashboard")


def test_a_crash_in_check_is_unknown(env: dict[str, str]) -> None:
    env["PUPITRE_TEST_CRASH"] = "check"
    result = pupitre(["check", "--sandbox"], env)
    log = Path(env["PUPITRE_DATA_DIR"]) / "pupitre.log"
    assert result.returncode == EXIT_CHECK_UNKNOWN == 3
    sentence = "unexpected error in pupitre check (RuntimeError), it stopped"
    assert result.stdout.splitlines() == [f"pupitre check — UNKNOWN: {sentence}; details in the log {log}."]
    assert result.stderr == ""
    assert_logged_without_locals(log, "pupitre check")

    result = pupitre(["check", "--sandbox", "--json"], env)
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["status"] == "unknown" and report["exit_code"] == 3 and str(log) in report["error"]
    assert "Traceback" not in result.stdout + result.stderr and TOKEN not in result.stdout + result.stderr


def test_a_crash_of_the_command_line_exits_non_zero(env: dict[str, str]) -> None:
    env["PUPITRE_TEST_CRASH"] = "cli"
    result = pupitre(["config", "path"], env)
    log = Path(env["PUPITRE_DATA_DIR"]) / "pupitre.log"
    assert result.returncode == EXIT_CRASH
    assert result.stdout == ""
    assert_one_sentence(result.stderr, "pupitre config", log)
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert_logged_without_locals(log, "pupitre config")


def test_no_color_access_rights_opens_and_quits_cleanly(env: dict[str, str]) -> None:
    """NO_COLOR used to crash the app as soon as Access rights (5) drew its table (exit 0)."""
    env["NO_COLOR"] = "1"
    code, output = run_in_pty(
        ["--sandbox", "--screen", "overview"],
        env,
        [Step(b"Overview", b"5", pause=1.0), Step(b"PCE", b"q", pause=1.5)],
    )
    text = output.decode("utf-8", "replace")
    assert code == 0, after_terminal_restored(output)
    assert "unexpected error" not in text and "Traceback" not in text
    assert not (Path(env["PUPITRE_DATA_DIR"]) / "pupitre.log").read_text().count("ERROR")
