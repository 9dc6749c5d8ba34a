"""The key-binding catalogue (``pupitre.keymap``) against the screens, and the checks of ``[app] keys``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import string

import pytest

from pupitre import keymap


def _declared() -> dict[str, list[tuple[str, str, str]]]:
    """``module:Class`` -> [(id, key, description)] for every class of pupitre.tui binding ids."""
    import pupitre.tui

    out: dict[str, list[tuple[str, str, str]]] = {}
    for info in pkgutil.walk_packages(pupitre.tui.__path__, "pupitre.tui."):
        if info.name.endswith("__main__"):
            continue  # running it starts the dashboard
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            bindings = [b for b in cls.__dict__.get("BINDINGS", []) if getattr(b, "id", None)]
            if bindings:
                out[f"{module.__name__}:{name}"] = [(b.id, b.key, b.description) for b in bindings]
    return out


def test_the_catalogue_is_what_the_screens_declare() -> None:
    declared = _declared()
    catalogue: dict[str, list[tuple[str, str, str]]] = {}
    for binding in keymap.BINDINGS:
        catalogue.setdefault(keymap.SCOPES[binding.scope].where, []).append(
            (binding.id, binding.keys, binding.description)
        )
    assert catalogue == declared


def test_dialogs_are_scopes_without_the_app_keys() -> None:
    """A modal screen cuts Textual's binding chain: its scope has no parent; the others do."""
    from textual.screen import ModalScreen, Screen

    for scope in keymap.SCOPES.values():
        module, name = scope.where.split(":")
        cls = getattr(importlib.import_module(module), name)
        if issubclass(cls, ModalScreen):
            assert scope.parent is None, scope.name
        elif issubclass(cls, Screen):
            assert scope.parent == "app", scope.name
        elif scope.name != "app":  # a widget: its screen's chain
            assert scope.parent in keymap.SCOPES, scope.name


def test_the_defaults_put_no_two_actions_on_one_key() -> None:
    assert [(a.id, b.id, key) for a, b, key in keymap.conflicts({})] == []
    assert keymap.problems({}) == {}


def test_key_names_are_textuals() -> None:
    from textual.keys import Keys, _character_to_key

    for character in string.printable.strip():
        assert keymap.normalize_key(character) == _character_to_key(character)
    for key in Keys:
        if not key.value.startswith("<") and "-" not in key.value and key.value != "return":
            assert keymap.normalize_key(key.value) == key.value
    assert keymap.normalize_key("question_mark") == "question_mark"
    assert keymap.normalize_key("ctrl+r") == "ctrl+r"
    for bad in ("", "f25", "ctrl+fx", "cmd+a", "refresh", "ctrl+"):
        with pytest.raises(ValueError):
            keymap.normalize_key(bad)


def test_the_settings_template_example_was_an_unknown_id() -> None:
    """``{ refresh = "f5" }`` did nothing: the id is ``feeds.refresh``, and it says so."""
    found = keymap.problems({"refresh": "f5"})
    assert list(found) == ["refresh"]
    assert "unknown key binding id 'refresh'" in found["refresh"][0]
    assert "feeds.refresh" in found["refresh"][0]
    assert keymap.problems({"feeds.refresh": "f5"}) == {}


def test_quit_stays_reachable() -> None:
    found = keymap.problems({"flexibility.sort": "q"})
    assert found == {"flexibility.sort": ["q is Quit's key: on Flexibility (2) it would hide Quit"]}
    hidden = keymap.problems({"app.quit": "s"})["app.quit"]
    assert "Quit on s would be hidden on Flexibility (2) by flexibility.sort (Sort)" in hidden
    assert len(hidden) == 6  # every screen where s is taken, each named (the alerts screen too)
    assert keymap.problems({"app.quit": "ctrl+q"}) == {"app.quit": ["ctrl+q is reserved for Textual's own quit key"]}
    assert "app.quit" in keymap.problems({"app.quit": "down"})
    # In a dialog the app's keys do not apply: q there hides nothing.
    assert keymap.problems({"confirm.yes": "q"}) == {}
    assert keymap.problems({"app.quit": "f10"}) == {}


def test_two_actions_on_one_key_per_screen_chain() -> None:
    found = keymap.problems({"feeds.refresh": "v"})["feeds.refresh"]
    assert "v is already editor.paste (Paste 24…) on GRTgaz program editor" in found
    assert "v is already plot.overlay (Overlay) on Load curves, plot" in found
    # Same screen, two ids:
    assert keymap.problems({"flexibility.sort": "g"}) == {
        "flexibility.sort": ["g is already flexibility.programs (Programs) on Flexibility (2)"]
    }
    # A widget's chain goes through its screen: the filter panel's x already takes Revoke's key
    # (declared), but moving Apply onto f hides the screen's Filter there.
    assert keymap.problems({"filter.apply": "f"}) == {
        "filter.apply": ["f is already rights.filter (Filter) on Access rights, filter panel"]
    }
    # Different screens never meet: s on two screens is fine.
    assert keymap.problems({"requests.sort": "o"}) == {}
    # Swapping two keys on one screen is fine.
    assert keymap.problems({"flexibility.sort": "g", "flexibility.programs": "s"}) == {}


def test_bad_key_names_and_empty_values() -> None:
    assert "is not a key name" in keymap.problems({"feeds.refresh": "ctrl+fx"})["feeds.refresh"][0]
    assert "give a key" in keymap.problems({"feeds.refresh": " "})["feeds.refresh"][0]


def test_every_id_is_listed_by_pupitre_keys(capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch) -> None:
    from pupitre import cli_config

    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path))
    (tmp_path / "settings.toml").write_text('[app]\nkeys = { "feeds.refresh" = "f5" }\n')
    assert cli_config.main(["keys"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for binding in keymap.BINDINGS:
        assert binding.id in lines
        assert binding.description in out
    assert "f5" in lines["feeds.refresh"] and " r " in lines["feeds.refresh"]
