"""Reading the settings never imports pydantic (issue #20: every start-up path reads them first).

Checked in a fresh interpreter, since this test session imports pydantic elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pupitre.providers.core import config

ROOT = Path(__file__).resolve().parents[1]

LOAD = r"""
import json, sys
from pathlib import Path

import pupitre.settings
after_import = "pydantic" in sys.modules
from pupitre.providers.core import config

settings = config.load_settings(Path(sys.argv[1]))
print(json.dumps({
    "after_import": after_import,
    "after_load": sorted(m for m in sys.modules if m == "pydantic" or m.startswith(("pydantic.", "pydantic_core"))),
    "declared": sorted(settings.declared),
    "store": settings.store.url,
    "keys": settings.app.keys,
    "command": settings.alerts.command,
}))
"""


def _every_section_set(path: Path) -> None:
    """The template with every setting uncommented, and the settings whose rules load more code set."""
    text = config.default_settings_text()
    text = "\n".join(line[2:] if re.match(r"# [a-z_]+ = ", line) else line for line in text.splitlines())
    for key, value in (
        ("url", '"postgresql://pupitre@db.example/pupitre"'),
        ("keys", '{ "feeds.refresh" = "f5" }'),
        ("sites", '["LI1001", "LI1006"]'),
        ("command", '"/usr/local/bin/page-oncall --team gas"'),
        ("certificate", '"cert.pem"'),
        ("private_key", '"key.pem"'),
    ):
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    path.write_text(text, encoding="utf-8")


def test_settings_load_without_pydantic(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    _every_section_set(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["declared"] == sorted(config.Settings.sections())  # every section was read
    assert report["store"] == "postgresql://pupitre@db.example/pupitre"
    assert report["keys"] == {"feeds.refresh": "f5"}
    assert report["command"] == "/usr/local/bin/page-oncall --team gas"
    assert report["after_import"] is False
    assert report["after_load"] == []
