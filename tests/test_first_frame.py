"""The dashboard in a real pseudo-terminal paints the asked screen from the store first (issue 20)."""

from __future__ import annotations

from pathlib import Path

from tests.terminal import Step, after_terminal_restored, pupitre, run_in_pty, subprocess_env


def test_the_first_frame_shows_the_stores_data_on_a_real_terminal(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path)
    assert pupitre(["check", "--sandbox"], env).returncode in (0, 1, 2)  # fills the store
    code, output = run_in_pty(
        ["--sandbox", "--screen", "flexibility"],
        env,
        [Step(b"STALE: from the store", b"q", pause=0.3)],  # until the first refresh lands
    )
    assert code == 0, after_terminal_restored(output)
    first = output[: output.index(b"STALE: from the store")]
    assert b"Martigues" in first and b"Montoir" in first  # the sites, in the same first frames
