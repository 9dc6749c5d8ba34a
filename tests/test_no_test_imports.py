"""No file under tests/ imports a test module or a conftest.

Shared fixtures live in ``conftest.py`` (pytest finds them by name), shared helpers in
plain modules (``tests/helpers.py``, ``tests/<package>/helpers.py``). Importing from a
test module re-collects its tests and its fixtures shadow the conftest's under the same
name; importing from a conftest loads it a second time under another module name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _forbidden(name: str) -> bool:
    """A dotted module name whose last part is a test module or a conftest."""
    last = name.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def forbidden_imports(source: str) -> list[str]:
    """Every test module or conftest that ``source`` imports, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and _forbidden(node.module):
                found.append(module)
            # `from tests.tui import test_flows`, `from . import conftest`
            prefix = module if module.endswith(".") else module + "."
            found += [prefix + alias.name for alias in node.names if _forbidden(alias.name)]
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.tui.test_flows import screen_text", ["tests.tui.test_flows"]),
        ("import tests.unit.test_secrets as s", ["tests.unit.test_secrets"]),
        ("from tests.tui.conftest import wait_for", ["tests.tui.conftest"]),
        ("from . import conftest", [".conftest"]),
        ("from .test_x import y", [".test_x"]),
        ("from tests.tui import test_flows, helpers", ["tests.tui.test_flows"]),
        (
            "def f():\n    from tests.providers.test_declare_handler import counting",
            ["tests.providers.test_declare_handler"],
        ),
        ("from tests.tui.helpers import wait_for\nfrom tests.helpers import MemoryKeyring", []),
        ("from pupitre.tui.screens.access_rights import AccessRightsScreen", []),
    ],
)
def test_the_scan_sees_every_form_of_import(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source) == expected


def test_no_file_under_tests_imports_a_test_module_or_a_conftest() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert TESTS / "tui" / "test_flows.py" in files  # the scan sees the packages
    offenders = {
        str(path.relative_to(TESTS.parent)): found
        for path in files
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "import helpers from tests/**/helpers.py; fixtures come from conftest.py by name"
