"""``pupitre config check`` in a real process, and the dashboard and ``pupitre check`` refusing
the same invalid settings with the same sentences before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVALID = (
    '[app]\nkeys = { refresh = "f5", "flexibility.sort" = "q" }\n'
    '[grtgaz]\nsites = ["LI9999", "Montoir"]\n'
    '[edf_oa]\nwindow_start = "16:00"\nwindow_end = "13:30"\nack_deadline = "25:00"\n'
)
EXPECTED = [
    "line 2, app.keys.refresh: unknown key binding id 'refresh' (did you mean feeds.refresh",
    'line 2, app.keys."flexibility.sort": q is Quit\'s key: on Flexibility (2) it would hide Quit',
    "line 4, grtgaz.sites[0]: unknown site id 'LI9999'; the sites are LI1001 (DK6)",
    "line 4, grtgaz.sites[1]: 'Montoir' is a site name: write its id 'LI1006'",
    "line 7, edf_oa.window_end: the call window must end after it starts (window_start = '16:00')",
    "line 8, edf_oa.ack_deadline: '25:00' is not a time of day",
]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Neither the machine's PUPITRE_ settings nor its proxies (`config check` also checks those).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_") and not k.lower().endswith("_proxy")}
    env.update(
        PUPITRE_DATA_DIR=str(tmp_path / "data"),
        PUPITRE_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        NO_COLOR="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "pupitre", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_config_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    ok = _run(tmp_path, "config", "check")
    assert ok.returncode == 0 and "settings OK" in ok.stdout, ok.stderr
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(INVALID)
    result = _run(tmp_path, "config", "check")
    assert result.returncode == 2
    assert "invalid settings (6 problems)" in result.stderr
    for sentence in EXPECTED:
        assert sentence in result.stderr
    assert "Traceback" not in result.stderr

    # The same sentences stop `pupitre check` (UNKNOWN, 3, on stdout: monitoring reads it there)
    # and the dashboard (2, on stderr) before anything runs.
    problems = [line for line in result.stderr.splitlines() if line.startswith("  line ")]
    for command, code, stream in ((["check", "--sandbox"], 3, "stdout"), (["--sandbox"], 2, "stderr")):
        refused = _run(tmp_path, *command)
        assert refused.returncode == code, command
        said = getattr(refused, stream)
        assert [line for line in said.splitlines() if line.startswith("  line ")] == problems
        assert not (tmp_path / "data" / "pupitre.sqlite3").exists()  # nothing ran
