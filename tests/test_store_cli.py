"""``pupitre store check|backup`` and the disk failing under ``pupitre`` (subprocesses).

A read-only data dir: chmod when the tests run as a normal user; as root (who writes
through chmod) a read-only bind mount in a private mount namespace (``unshare -m``);
skipped when neither is possible (the in-process tests inject EROFS instead)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terminal import REPO, Step, after_terminal_restored, pupitre, run_in_pty, subprocess_env
from tests.unit.disk_faults import corrupt_middle_page


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(tmp_path)


def store_of(env: dict[str, str]) -> Path:
    return Path(env["PUPITRE_DATA_DIR"]) / "pupitre.sqlite3"


def test_store_check_and_backup(env: dict[str, str]) -> None:
    result = pupitre(["store", "check"], env)
    assert result.returncode == 2 and "no store at" in result.stderr  # nothing yet

    assert pupitre(["check", "--sandbox"], env).returncode in (0, 1, 2)
    result = pupitre(["store", "check"], env)
    assert (result.returncode, result.stdout.strip()) == (0, f"{store_of(env)}: ok (PRAGMA integrity_check)")

    target = Path(env["PUPITRE_DATA_DIR"]).parent / "copy.sqlite3"
    result = pupitre(["store", "backup", str(target)], env)
    assert (result.returncode, result.stdout.strip()) == (0, str(target))
    assert os.stat(target).st_mode & 0o777 == 0o600
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM snapshots").fetchone()[0] > 0
    assert pupitre(["store", "backup", str(target)], env).returncode == 2  # never overwrites

    result = pupitre(["store", "backup"], env)  # default: <data dir>/backups/
    assert result.returncode == 0 and Path(result.stdout.strip()).parent == store_of(env).parent / "backups"


def test_a_damaged_store_is_reported_then_moved_aside_at_start(env: dict[str, str]) -> None:
    pupitre(["check", "--sandbox"], env)
    corrupt_middle_page(store_of(env))
    result = pupitre(["store", "check"], env)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{store_of(env)}: DAMAGED") and ".recover" in result.stdout

    result = pupitre(["check", "--sandbox"], env)  # starts anyway
    (aside,) = store_of(env).parent.glob("pupitre.sqlite3.damaged-*[0-9]")
    assert "[ATTENTION] Store: The store was damaged: moved aside to" in result.stdout
    assert f"sqlite3 {aside} .recover | sqlite3 {store_of(env)}.recovered" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and result.returncode in (1, 2)
    assert pupitre(["store", "check"], env).returncode == 0


def read_only_prefix(data: Path) -> list[str]:
    """A command prefix under which ``data`` is read-only (or skip)."""
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        data.chmod(0o500)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("root, and no unshare for a read-only bind mount")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", f"mount --bind {data} {data} && mount -o remount,bind,ro {data}"],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"root, and no read-only bind mount here: {probe.stderr.decode().strip()}")
    script = f'mount --bind "{data}" "{data}" && mount -o remount,bind,ro "{data}" && exec "$@"'
    return [unshare, "-m", "sh", "-c", script, "sh"]


def test_read_only_data_dir_check_runs_and_says_nothing_can_be_saved(env: dict[str, str], tmp_path: Path) -> None:
    data = Path(env["PUPITRE_DATA_DIR"])
    env["TMPDIR"] = str(tmp_path / "tmp")  # where the log falls back
    (tmp_path / "tmp").mkdir()
    prefix = read_only_prefix(data)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "pupitre", "check", "--sandbox"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    finally:
        data.chmod(0o700)
    assert result.returncode == 2, result.stderr
    assert "[ CRITICAL] Store: Nothing can be saved: the data directory is read-only" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and result.stderr == ""
    assert list(data.iterdir()) == []  # nothing written
    log = tmp_path / "tmp" / f"pupitre-{os.getuid()}" / "pupitre.log"
    assert "cannot be written" in log.read_text()  # the log fell back, and says why


def test_read_only_data_dir_dashboard_shows_the_banner(env: dict[str, str], tmp_path: Path) -> None:
    data = Path(env["PUPITRE_DATA_DIR"])
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    prefix = read_only_prefix(data)
    try:
        code, output = run_in_pty(["--sandbox"], env, [Step(b"NOTHING CAN BE SAVED", b"q", pause=1.0)], prefix=prefix)
    finally:
        data.chmod(0o700)
    assert code == 0, after_terminal_restored(output)
    assert b"Traceback" not in output and after_terminal_restored(output).strip() == ""
