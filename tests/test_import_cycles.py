"""No import circles in ``pupitre``: every module's imports, at module level and inside
functions, form a graph without a cycle.

An import inside a function is still an import: one placed there to dodge a circle hides
it, it does not break it. Only the imports under ``if TYPE_CHECKING:`` are left out: they
never run (annotations only). A screen opens another by name
(:meth:`pupitre.tui.app.PupitreApp.open_screen`), never by importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pupitre

ROOT = Path(pupitre.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["pupitre", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:`` (they never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for statement in node.body:
                skipped.update(id(inner) for inner in ast.walk(statement))
    return skipped


def _imported(module: str, path: Path, node: ast.AST, modules: dict[str, Path]) -> list[str]:
    """The pupitre modules that ``node`` (an import statement of ``module``) loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    """module -> the pupitre modules it imports (anywhere in it, but for annotations)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        graph[module] = {
            target
            for node in ast.walk(tree)
            if id(node) not in skipped
            for target in _imported(module, path, node, modules)
            if target in modules and target != module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_pupitre_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import circles (break them: push screens by name, move what both need down a layer):\n" + (
        "\n".join(" ↔ ".join(group) for group in found)
    )


def test_the_check_sees_function_level_imports_and_cycles() -> None:
    """The graph counts an import inside a function, and a circle through one is found."""
    graph = import_graph()
    assert "pupitre.tui.screens.base" in graph["pupitre.tui.screens.overview"]
    assert "pupitre.tui.app" in graph["pupitre.cli"]  # imported inside cmd_run
    graph["pupitre.tui.app"] = graph["pupitre.tui.app"] | {"pupitre.tui.screens.overview"}
    assert ["pupitre.tui.app", "pupitre.tui.screens.base", "pupitre.tui.screens.overview"] in [
        [m for m in group if m in {"pupitre.tui.app", "pupitre.tui.screens.base", "pupitre.tui.screens.overview"}]
        for group in cycles(graph)
    ]
