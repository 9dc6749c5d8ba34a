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
                    assert 'classes="dialog"' in inspect.getsource(cls.compose), name
    frames = [f"{name}: {selectors}" for name, selectors, body in _rules() if "border: thick" in body]
    assert frames == ["app.tcss: .dialog", "app.tcss: #not-saved-dialog"]
