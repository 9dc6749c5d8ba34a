"""pupitre's value classes are msgspec Structs (built in C), not dataclasses: on Python 3.11 a
dataclass compiles each generated method with its own ``exec`` (≈ 0.7 ms a class), and 77 of
them cost the dashboard's start ≈ 50 ms (issue #20).

Checked in a fresh interpreter, since this test session has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# owned by the settings and ``pupitre check`` work: converted with them
STILL_DATACLASSES: set[str] = set()

IMPORT_EVERYTHING = r"""
import dataclasses, importlib, json, pkgutil
made = []
process_class = dataclasses._process_class

def counted(cls, *args, **kwargs):
    if cls.__module__.startswith("pupitre"):
        made.append(f"{cls.__module__}.{cls.__qualname__}")
    return process_class(cls, *args, **kwargs)

dataclasses._process_class = counted
import pupitre
names = [i.name for i in pkgutil.walk_packages(pupitre.__path__, "pupitre.") if not i.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "dataclasses": made}))
"""


def test_pupitre_makes_no_dataclass(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")}
    env.update(
        PUPITRE_DATA_DIR=str(tmp_path / "data"),
        PUPITRE_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"pupitre.tui.app", "pupitre.providers.grtgaz.rules", "pupitre.check"} <= set(report["modules"])
    assert set(report["dataclasses"]) <= STILL_DATACLASSES, "a dataclass: make it a msgspec.Struct"
