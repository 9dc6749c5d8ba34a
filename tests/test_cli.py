"""The ``pupitre`` command's own options, run as an operator runs them (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from pupitre import __version__

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PUPITRE_DATA_DIR=str(tmp_path / "data"),
        PUPITRE_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False
    )


def test_version_names_pupitre_python_and_textual_without_importing_textual(tmp_path: Path) -> None:
    result = _run(tmp_path, "-X", "importtime", "-m", "pupitre", "--version")
    assert result.returncode == 0
    python = ".".join(map(str, sys.version_info[:3]))
    assert result.stdout.strip() == f"pupitre {__version__} (Python {python}, Textual {version('textual')})"
    assert "| textual\n" not in result.stderr  # the version is read from metadata only


def test_the_version_is_declared_once() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'attr = "pupitre.__version__"' in pyproject
    assert version("pupitre") == __version__


def test_sandbox_serve_without_uvicorn_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None; from pupitre.cli import main; sys.exit(main(['sandbox', 'serve']))"
    )
    result = _run(tmp_path, "-c", code)
    assert result.returncode == 2
    assert "pip install 'pupitre[serve]'" in result.stderr and "Traceback" not in result.stderr


def test_a_command_line_builds_only_its_subcommand() -> None:
    """``pupitre check`` pays argparse's set-up for its own subcommand only, and parses alike."""
    import argparse

    from pupitre import cli

    def commands(parser: argparse.ArgumentParser) -> list[str]:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return list(action.choices)

    argv = ["--sandbox", "check", "--json", "--max-age", "60"]
    only, full = cli.build_parser("check"), cli.build_parser()
    assert vars(only.parse_args(argv)) == vars(full.parse_args(argv))
    assert commands(only) == ["check"] and {"check", "outbox", "store", "sandbox"} <= set(commands(full))
    assert commands(cli.build_parser("nosuch")) == commands(full)  # argparse's own message lists them all
    # the dashboard (no subcommand) builds none, and parses alike; --help lists them all
    dashboard = ["--sandbox", "--screen", "flexibility", "--clock", "2026-10-25T02:30"]
    assert cli._parser_for(dashboard) == cli.DASHBOARD and commands(cli.build_parser(cli.DASHBOARD)) == []
    assert vars(cli.build_parser(cli.DASHBOARD).parse_args(dashboard)) == vars(full.parse_args(dashboard))
    assert cli._parser_for(["--sandbox", "--help"]) is None


def test_the_command_module_imports_nothing_before_the_collector_is_relaxed(tmp_path: Path) -> None:
    """``pupitre.cli`` is the entry point: what it imports runs at Python's collection pace (one
    every 700 objects), so everything else (settings, models, store) is imported by ``main``, at
    ``START_UP_GC``'s; and the command ends without the interpreter's last collection."""
    code = (
        "import gc, sys\n"
        "import pupitre.cli as cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pupitre'))\n"
        "sys.argv = ['pupitre', 'keys']\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = cli.run()\n"
        "print(code, gc.get_freeze_count() > 10_000, gc.get_threshold() == cli.STEADY_GC)\n"
    )
    result = _run(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    modules, after = result.stdout.splitlines()
    assert modules == "['pupitre', 'pupitre.cli', 'pupitre.crash']"
    assert after == "0 True True"


def test_the_collector_is_relaxed_while_a_command_runs_then_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up collects rarely (issue 20: ~20 ms of a check); the process's pace comes back after."""
    import gc

    from pupitre import cli

    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(cli, "cmd_check", lambda args: seen.append(gc.get_threshold()) or 0)
    assert cli.main(["check"]) == 0
    assert seen == [cli.START_UP_GC] and gc.get_threshold() == before
    gc.set_threshold(*cli.START_UP_GC)
    cli.steady_gc()  # what the dashboard, the agent and the server do once started
    assert gc.get_threshold() == cli.STEADY_GC == before
