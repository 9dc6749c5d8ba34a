"""Only code outside ``pupitre/tui/`` writes the audit log: whether an operation is audited
never depends on a screen remembering it (issue 15). The runtime, the provider sessions,
the outbox and the follow-ups audit; screens only show and ask.

Checked on the syntax tree of every module under ``pupitre/tui/`` (not with grep): any use
of an attribute named ``audit`` (``store.audit(…)``, ``session.audit(…)``, or the method
passed along as ``callback=store.audit``) fails, and so does a call of a bare ``audit``.
"""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[1] / "pupitre" / "tui"
WRITERS = frozenset({"audit"})


def audit_uses(source: str, filename: str = "<source>") -> list[str]:
    """``file:line`` of every use of the audit writer in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr in WRITERS:
            found.append(f"{filename}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in WRITERS:
            found.append(f"{filename}:{node.lineno} {node.func.id}()")
    return sorted(found, key=lambda use: int(use.split(":")[-1].split()[0]))


def test_the_check_sees_every_way_of_writing_the_audit_log() -> None:
    sample = (
        "self.papp.runtime.store.audit('p', 'a', 'ok', now)\n"
        "session.audit('x', 'ok', 'd')\n"
        "later(callback=store.audit)\n"
        "from pupitre.providers.core.store import audit\n"
        "audit('p')\n"
        "store.audit_log('p')  # reading is fine\n"
    )
    assert audit_uses(sample) == [
        "<source>:1 .audit",
        "<source>:2 .audit",
        "<source>:3 .audit",
        "<source>:5 audit()",
    ]


def test_no_module_under_tui_writes_the_audit_log() -> None:
    modules = sorted(TUI.rglob("*.py"))
    assert len(modules) > 20 and TUI / "app.py" in modules
    found = [
        use for path in modules for use in audit_uses(path.read_text(encoding="utf-8"), str(path.relative_to(TUI)))
    ]
    assert found == [], "the audit log is written from the TUI: move it to the runtime, a session or the outbox"
