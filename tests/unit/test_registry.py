"""The screen registry against what is derived from it: modes, keys, palette, CSS, tiles."""

from __future__ import annotations

import inspect

from pupitre.tui import registry


def test_every_entry_names_a_screen_class_of_tui_screens() -> None:
    from textual.screen import ModalScreen, Screen

    for entry in registry.SCREENS:
        cls = entry.load()
        assert inspect.isclass(cls) and issubclass(cls, Screen), entry.name
        assert not issubclass(cls, ModalScreen), f"{entry.name}: dialogs live in tui/dialogs/, opened by their caller"


def test_the_app_derives_its_modes_keys_and_css_from_the_registry() -> None:
    from pupitre.tui.app import PupitreApp

    assert list(PupitreApp.MODES) == [entry.name for entry in registry.SCREENS if entry.mode]
    switches = {b.key: (b.action, b.id) for b in PupitreApp.BINDINGS if b.action.startswith("switch_mode")}
    assert switches == {e.key: (f"switch_mode('{e.name}')", f"screen.{e.name}") for e in registry.keyed()}
    assert [e.key for e in registry.numbered()] == [str(n) for n in range(1, len(registry.numbered()) + 1)]
    assert [p.name for p in PupitreApp.CSS_PATH] == ["app.tcss"] + [e.css for e in registry.SCREENS if e.css]
    assert all(path.exists() for path in PupitreApp.CSS_PATH)
    styles = {p.name for p in registry.STYLES.glob("*.tcss")}
    assert styles == {p.name for p in PupitreApp.CSS_PATH}, "a stylesheet nobody loads"


def test_a_keyed_screen_is_a_mode_and_a_tile_opens_a_keyed_screen() -> None:
    assert [entry.key for entry in registry.keyed()] == ["1", "2", "3", "4", "5", "6", "7", "exclamation_mark"]
    assert all(entry.mode for entry in registry.keyed())
    assert [tile.provider for _, tile in registry.tiles()] == [
        "grtgaz",
        "edf_oa",
        "grdf_omega",
        "grdf_adict",
        "switchgrid",
    ]


def test_a_tiles_feed_is_a_feed_of_its_provider(tmp_path) -> None:
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings

    runtime = build_runtime(Settings(), sandbox=True, data_dir=tmp_path)
    try:
        for _, tile in registry.tiles():
            assert tile.feed in {feed.name for feed in runtime.connections[tile.provider].feeds}, tile
    finally:
        runtime.store.close()


def test_the_command_line_offers_every_mode() -> None:
    from pupitre.cli import build_parser

    screen = next(a for a in build_parser()._actions if "--screen" in a.option_strings)
    assert list(screen.choices or []) == [entry.name for entry in registry.modes()]


def test_an_unknown_name_says_which_exist() -> None:
    try:
        registry.screen("nope")
    except KeyError as error:
        assert "overview" in str(error)
    else:
        raise AssertionError("no KeyError")
