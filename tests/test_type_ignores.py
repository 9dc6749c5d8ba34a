"""Every ``# type: ignore`` in the repository names its error code and says why
(``# type: ignore[arg-type]  # reason``); mypy's own ``ignore-without-code`` only covers
``pupitre/``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUSTIFIED = re.compile(r"type: ignore\[[a-z, -]+\]  # \S")


def test_every_type_ignore_names_its_code_and_a_reason() -> None:
    files = [*ROOT.joinpath("pupitre").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    assert len(files) > 100
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: ignore" in line and not JUSTIFIED.search(line) and path.name != Path(__file__).name
    ]
    assert bare == []
