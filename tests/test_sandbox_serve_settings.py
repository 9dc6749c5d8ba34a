"""`pupitre sandbox serve` prints settings that connect all five providers to it: applied in a
fresh data dir, `pupitre check` runs every provider on its real (non-sandbox) code path."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import IO, Iterator

import pytest

from pupitre.runtime import PROVIDERS

START_TIMEOUT = 60.0


def free_ports(count: int) -> int:
    """A first port of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            held = []
            for port in range(base, base + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return base
    raise RuntimeError("no run of free ports")


def read_until(stream: IO[str], end: str, deadline: float) -> str:
    lines = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == end:
            return "".join(lines)
    raise AssertionError("`pupitre sandbox serve` printed no settings:\n" + "".join(lines))


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[str]:
    """`pupitre sandbox serve` in its own process; yields what it printed."""
    env = {**os.environ, "PUPITRE_DATA_DIR": str(tmp_path / "served"), "PUPITRE_CONFIG_DIR": str(tmp_path / "sc")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pupitre", "sandbox", "serve", "--port", str(free_ports(len(PROVIDERS)))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        yield read_until(process.stdout, "Ctrl-C stops.", time.monotonic() + START_TIMEOUT)
    finally:
        process.kill()
        process.wait(10)


def parse(printed: str) -> tuple[str, dict[str, str]]:
    """The TOML sections and the ``export NAME=value`` lines ``serve`` printed."""
    sections, exports, taking = [], {}, False
    for line in printed.splitlines():
        text = line.strip()
        if text.endswith("to use it:"):
            taking = True
            continue
        if taking and line.startswith("    ") and not text.startswith("export "):
            sections.append(text)
            continue
        taking = False
        found = re.fullmatch(r"export (PUPITRE_\w+)=(\S+)", text)
        if found:
            exports[found.group(1)] = found.group(2)
    return "\n".join(sections), exports


def test_printed_settings_connect_all_five_providers(serving: str, tmp_path: Path) -> None:
    settings, exports = parse(serving)
    data = tomllib.loads(settings)
    assert set(data) == set(PROVIDERS)
    assert data["grdf_omega"]["code_cdgf"] and data["grdf_omega"]["user_login"] and data["grdf_adict"]["client_id"]
    assert set(exports) == {
        "PUPITRE_EDF_OA_API_TOKEN",
        "PUPITRE_GRDF_OMEGA_CLIENT_SECRET",
        "PUPITRE_GRDF_ADICT_CLIENT_SECRET",
        "PUPITRE_SWITCHGRID_API_TOKEN",
    }
    config, fresh = tmp_path / "config", tmp_path / "data"
    config.mkdir(mode=0o700)
    (config / "settings.toml").write_text(settings + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")},
        **exports,
        "PUPITRE_DATA_DIR": str(fresh),
        "PUPITRE_CONFIG_DIR": str(config),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pupitre", "check", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    report = json.loads(done.stdout)
    assert done.returncode in (0, 1, 2), (done.returncode, report.get("findings"), done.stderr[-2000:])
    assert report["sandbox"] == [] and report["simulated"] == []  # every provider on its real code path
    assert {feed["provider"] for feed in report["feeds"].values()} == set(PROVIDERS)
    failed = {name: feed for name, feed in report["feeds"].items() if not feed["ok"]}
    assert not failed, failed
    assert all(env_label != "sandbox" for env_label in report["environments"].values())
