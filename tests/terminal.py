"""Run ``python -m pupitre …`` in a real pseudo-terminal (80×24), the way an operator does.

``run_in_pty(args, env, steps)``: each step waits until its text has appeared on the
terminal, then types its keys. Returns the exit code and everything written to the
terminal. A process still running at the deadline is killed and the test fails.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a ``pupitre`` subprocess: its own data and config dirs, 80×24."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PUPITRE_", "TEXTUAL", "NO_COLOR"))}
    environ.update(
        PUPITRE_DATA_DIR=str(tmp_path / "data"),
        PUPITRE_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=str(REPO),
        TERM="xterm-256color",
        COLUMNS="80",
        LINES="24",
    )
    return environ


def pupitre(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m pupitre …`` without a terminal (stdout and stderr captured)."""
    return subprocess.run(
        [sys.executable, "-m", "pupitre", *args], env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )


@dataclass
class Step:
    wait_for: bytes  # text that must have appeared on the terminal (b"" = none)
    keys: bytes  # then typed
    pause: float = 0.3  # after the text appeared, before typing (let the screen settle)


def run_in_pty(
    args: list[str],
    env: dict[str, str],
    steps: list[Step] | None = None,
    timeout: float = 60.0,
    prefix: list[str] | None = None,
) -> tuple[int, bytes]:
    """``prefix``: a command that runs pupitre (e.g. in a mount namespace)."""
    command = [*(prefix or []), sys.executable, "-m", "pupitre", *args]
    pid, fd = pty.fork()
    if pid == 0:  # the child: pupitre on the pty
        try:
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    output = b""
    pending = list(steps or [])
    seen_at: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if pending:
                step = pending[0]
                if seen_at is None and step.wait_for in output:
                    seen_at = time.monotonic()
                if seen_at is not None and time.monotonic() - seen_at >= step.pause:
                    os.write(fd, step.keys)
                    pending.pop(0)
                    seen_at = None
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"pupitre {' '.join(args)} still ran after {timeout} s; output: {output[-2000:]!r}")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output


def after_terminal_restored(output: bytes) -> str:
    """What was printed once the dashboard left the alternate screen (``ESC [?1049l``)."""
    _, _, tail = output.rpartition(b"\x1b[?1049l")
    text = tail.decode("utf-8", "replace")
    # the mode resets Textual writes after leaving the alternate screen
    while text.startswith("\x1b["):
        end = next((i for i, c in enumerate(text[2:], 2) if c.isalpha() or c == "~"), len(text) - 1)
        text = text[end + 1 :]
    return text
