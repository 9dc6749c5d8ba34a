"""The stylesheets against the widgets: no dead selector, theme variables only, one dialog style."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pupitre.tui
from pupitre.tui import registry

STYLES = registry.STYLES
TUI = Path(pupitre.tui.__file__).resolve().parent


def _rules() -> list[tuple[str, str, str]]:
    """(file, selector list, body) of every rule of pupitre's stylesheets."""
    out = []
    for path in sorted(STYLES.glob("*.tcss")):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        out += [(path.name, selectors.strip(), body) for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]
    return out


def _widget_types() -> set[str]:
    """The class names a type selector can match: pupitre's widgets and screens, Textual's
    (with the toasts it mounts on every screen)."""
    import textual.containers
    import textual.widgets
    import textual.widgets._toast

    names: set[str] = set()
    for module in (textual.widgets, textual.containers, textual.widgets._toast):
        names.update(name for name in dir(module) if name[:1].isupper())
    for info in pkgutil.walk_packages(pupitre.tui.__path__, "pupitre.tui."):
        if not info.name.endswith("__main__"):
            module = importlib.import_module(info.name)
            names.update(name for name, obj in vars(module).items() if inspect.isclass(obj))
    return names


def _python_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in TUI.rglob("*.py"))


def test_every_selector_names_something_a_widget_has() -> None:
    """An id or class no widget is given, or a type no class has, styles nothing."""
    source, types = _python_source(), _widget_types()
    dead = []
    for name, selectors, _ in _rules():
        for kind, word in re.findall(r"(^|[\s,>#.:])([A-Za-z_][\w-]*)", selectors):
            if kind == ":":
                continue  # a pseudo-class (:focus)
            if kind in ("#", "."):
                used = re.search(rf"[\"'\s]-?{re.escape(word)}[\"'\s]", source) is not None
            else:
                used = word in types
            if not used:
                dead.append(f"{name}: {kind.strip()}{word}")
    assert dead == []


def test_colours_are_theme_variables() -> None:
    """No literal colour: themes and NO_COLOR must be able to change every one."""
    literal = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgb\(|\b(red|green|blue|white|black|yellow)\b")
    found = [f"{name}: {selectors}" for name, selectors, body in _rules() if literal.search(body)]
    assert found == []


def test_one_dialog_style() -> None:
    """Every dialog box carries the one ``.dialog`` class; no stylesheet repeats its frame."""
    from textual.screen import ModalScreen

    for info in pkgutil.walk_packages(pupitre.tui.__path__, "pupitre.tui."):
        if info.name.startswith("pupitre.tui.dialogs."):
            module = importlib.import_module(info.name)
            for name, cls in vars(module).items():
                if inspect.isclass(cls) and issubclass(cls, ModalScreen) and cls.__module__ == module.__name__:
                    assert re.search(r'classes="dialog[ "]', inspect.getsource(cls.compose)), name
    frames = [
        f"{name}: {selectors}" for name, selectors, body in _rules() if "border:" in body and "dialog" in selectors
    ]
    assert frames == ["app.tcss: .dialog", "app.tcss: .dialog.-alarm", "app.tcss: .dialog.-large"]
    assert not [rule for rule in _rules() if re.search(r"#[\w-]*dialog\b", rule[1])], (
        "a dialog's size goes in its DEFAULT_CSS"
    )


def _declarations(body: str) -> frozenset[str]:
    return frozenset(" ".join(line.split()) for line in body.split(";") if line.strip())


def test_ids_only_for_what_is_one_of_a_kind() -> None:
    """A style that several widgets share is a class (or a type), not a list of ids, and no id
    rule repeats a style another rule already has: ids are for a size one of a kind."""
    rules = _rules()
    shared = [f"{name}: {selectors}" for name, selectors, _ in rules if len(re.findall(r"#[\w-]+", selectors)) > 1]
    assert shared == []
    seen: dict[frozenset[str], str] = {}
    repeated = []
    for name, selectors, body in rules:
        key = _declarations(body)
        if len(key) > 1 and key in seen and "#" in selectors + seen[key]:  # one size alike: chance
            repeated.append(f"{name}: {selectors} repeats {seen[key]}")
        seen.setdefault(key, selectors)
    assert repeated == []


def test_styles_are_mostly_by_type_and_class() -> None:
    """Harlequin's balance (123 type rules, 13 id rules): id selectors stay a small part."""
    selectors = [selector.strip() for _, group, _ in _rules() for selector in group.split(",")]
    by_id = [selector for selector in selectors if "#" in selector]
    assert len(by_id) * 2 <= len(selectors) - len(by_id), by_id
