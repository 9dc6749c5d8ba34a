"""The data layer and ``pupitre check`` never import Textual (the Harlequin lesson).

Checked in fresh interpreters, since this test session itself imports Textual
elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IMPORT_EVERYTHING = r"""
import importlib, json, pkgutil, sys
import pupitre.providers

names = [info.name for info in pkgutil.walk_packages(pupitre.providers.__path__, "pupitre.providers.")]
names += ["pupitre.check", "pupitre.runtime", "pupitre.runners", "pupitre.agent", "pupitre.cli", "pupitre.settings",
          "pupitre.sandbox_server"]
culprit = None
for name in names:
    importlib.import_module(name)
    if culprit is None and "textual" in sys.modules:
        culprit = name
print(json.dumps({"modules": names, "culprit": culprit,
                  "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")}
    env.update(
        PUPITRE_DATA_DIR=str(tmp_path / "data"),
        PUPITRE_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        NO_COLOR="1",
    )
    return env


def test_data_layer_imports_without_textual(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "pupitre.providers.core.http" in report["modules"]
    assert "pupitre.providers.grtgaz.sandbox" in report["modules"]
    assert report["textual"] == [], f"{report['culprit']} imports textual"


def _imported(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_check_command_runs_without_textual(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pupitre", "check", "--sandbox", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["status"] in ("ok", "attention", "critical")
    assert result.returncode == report["exit_code"] == {"ok": 0, "attention": 1, "critical": 2}[report["status"]]
    assert report["feeds"]["grtgaz.indicators"]["ok"] is True
    imported = _imported(result.stderr)
    assert {"pupitre.check", "pupitre.runtime", "httpx"} <= imported  # the probe works
    assert not {name for name in imported if name == "textual" or name.startswith("textual.")}
    assert not {"click", "rich", "pygments"} & imported  # httpx's command line: never run (pupitre.providers)
    assert (tmp_path / "data" / "pupitre.sqlite3").exists()  # used the tmp dirs, not the user's


def test_start_up_path_loads_no_network_stack(tmp_path) -> None:
    """The dashboard paints from the store before httpx, JWT, crypto, the simulators or the
    keyring are imported (start-up budget): they load on the first fetch."""
    code = (
        "import sys\nimport pupitre.runtime, pupitre.tui.app\n"
        "pupitre.runtime.build_runtime(sandbox=True)  # every provider connected\n"
        "print(sorted(m for m in ('httpx', 'jwt', 'cryptography', 'starlette', 'keyring') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PUPITRE_DATA_DIR=str(tmp_path / "data"), PUPITRE_CONFIG_DIR=str(tmp_path / "config")),
    )
    assert out.stdout.strip() == "[]"


PURE_RENDERERS = ("pupitre.tui.formats", "pupitre.tui.program_render", "pupitre.providers.grtgaz.editing")


def test_pure_renderers_import_without_textual(tmp_path: Path) -> None:
    """The screens' words and state machines are tested without the pilot: no Textual in them."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {PURE_RENDERERS!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


HEAVY = ("httpx", "cryptography", "starlette", "anyio", "jwt", "keyring", "truststore", "textual", "asyncio", "ssl")

CHECK_AND_LIST_MODULES = r"""
import json, runpy, sys
sys.argv = ["pupitre", *sys.argv[1:]]
try:
    runpy.run_module("pupitre", run_name="__main__")
except SystemExit as exit:
    code = exit.code
loaded = [name for name, module in sys.modules.items() if module is not None]  # None: marked absent
print(json.dumps({"exit": code, "heavy": sorted(m for m in loaded if m.split(".")[0] in %r)}))
""" % (HEAVY,)


def test_check_answering_from_a_fresh_store_loads_no_network_stack(tmp_path: Path) -> None:
    """``pupitre check --max-age`` answered from a fresh store (issue 20's 0.25 s budget) pays for
    no event loop, HTTP client, TLS, crypto, simulator or Textual: they load only when a call is
    made. GRDF OMEGA, read request by request, has none older than --max-age: from the store too."""
    env = _env(tmp_path)
    first = [sys.executable, "-m", "pupitre", "check", "--sandbox", "--json"]
    report = json.loads(subprocess.run(first, capture_output=True, text=True, env=env, timeout=120).stdout)
    assert report["feeds"]["grtgaz.indicators"]["source"] == "fetched"
    fresh = ["check", "--sandbox", "--json", "--max-age", "3600"]
    result = subprocess.run(
        [sys.executable, "-c", CHECK_AND_LIST_MODULES, *fresh], capture_output=True, text=True, env=env, timeout=120
    )
    *answer, modules = result.stdout.rstrip("\n").split("\n")  # the report, then the probe's line
    report, loaded = json.loads("\n".join(answer)), json.loads(modules)
    assert {name for name, feed in report["feeds"].items() if feed["source"] != "store"} == set()
    omega = report["feeds"]["grdf_omega.requests"]
    assert omega["ok"] is True and omega["reason"] == "every item read within --max-age 3600 s"
    assert loaded["exit"] == report["exit_code"]
    assert loaded["heavy"] == []
