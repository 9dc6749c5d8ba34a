"""The app's stylesheet (pupitre.tui.stylesheet): Textual's rules, each source parsed once,
and not at all when an earlier start kept it (``stylesheet.cache``)."""

from __future__ import annotations

import os
import pickle
import types
from pathlib import Path
from typing import Callable, TypeVar

import pytest
from textual.css.stylesheet import Stylesheet as TextualStylesheet
from textual.css.stylesheet import StylesheetParseError

from pupitre.tui import registry
from pupitre.tui.stylesheet import PARSED_FILE, ParsedSources, Stylesheet, installed
from tests.tui.helpers import counted_parses


@pytest.fixture(scope="module")
def variables() -> dict[str, str]:
    """The default theme's variables, as an app gives them."""
    from textual.app import App

    return App().get_css_variables()


Sheet = TypeVar("Sheet", bound=TextualStylesheet)


def _filled(sheet: Sheet) -> Sheet:
    for path in registry.css_paths():
        sheet.read(path)
    sheet.add_source("Tile { border: round $warning; }", read_from=("tile.py", "Tile.DEFAULT_CSS"), is_default_css=True)
    return sheet


def _css(sheet: TextualStylesheet) -> list[str]:
    return [rule.css for rule in sheet.rules]


def test_the_rules_are_textuals_after_parse_and_reparse(variables: dict[str, str]) -> None:
    ours, textuals = _filled(Stylesheet(variables=variables)), _filled(TextualStylesheet(variables=variables))
    assert _css(ours) == _css(textuals) and _css(ours)
    ours.reparse()
    textuals.reparse()
    assert _css(ours) == _css(textuals)
    assert _css(ours.copy()) == _css(textuals.copy())


def test_a_reparse_parses_only_what_it_has_not_seen(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    sheet = _filled(Stylesheet(variables=variables))
    sheet.parse()
    asked = counted_parses(monkeypatch)
    sheet.reparse()
    sheet.copy().parse()
    assert asked == []
    sheet.add_source("Static { color: $primary; }", read_from=("static.py", "Static.DEFAULT_CSS"), is_default_css=True)
    sheet.reparse()
    assert asked == ["Static.DEFAULT_CSS"]


def test_other_variables_parse_again(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    """Variables are substituted when parsing: another theme is another parse (and other rules)."""
    sheet = _filled(Stylesheet(variables=variables))
    before = _css(sheet)
    asked = counted_parses(monkeypatch)
    sheet.set_variables({**variables, "warning": "#00ff00"})
    sheet.reparse()
    assert "Tile.DEFAULT_CSS" in asked
    assert _css(sheet) != before
    assert any("#00FF00" in css for css in _css(sheet))


def test_invalid_css_is_refused_as_textual_does_and_the_sheet_stays_as_it_was(variables: dict[str, str]) -> None:
    sheet = _filled(Stylesheet(variables=variables))
    before = _css(sheet)
    sheet.add_source("Tile { colour: red; }", read_from=("bad.py", "Bad.CSS"))
    with pytest.raises(StylesheetParseError):
        sheet.reparse()
    assert [rule.css for rule in sheet._rules] == before


def _save(sources: ParsedSources, sheet: Stylesheet) -> None:
    """As the app does after its first frame: what is new, written."""
    entries = sources.unsaved(sheet.parsed)
    if entries is not None:
        sources.save(entries)


def _kept(tmp_path: Path, variables: dict[str, str]) -> Stylesheet:
    """A stylesheet parsed by an earlier start, whose sources it kept in ``tmp_path``."""
    earlier = ParsedSources(tmp_path)
    sheet = _filled(Stylesheet(variables=variables, parsed=earlier.load()))
    sheet.parse()
    _save(earlier, sheet)
    return sheet


def test_a_later_start_reads_the_rules_back_and_parses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    _kept(tmp_path, variables)
    assert os.stat(tmp_path / PARSED_FILE).st_mode & 0o777 == 0o600
    textuals = _css(_filled(TextualStylesheet(variables=variables)))
    asked = counted_parses(monkeypatch)
    later = _filled(Stylesheet(variables=variables, parsed=ParsedSources(tmp_path).load()))
    assert _css(later) == textuals and textuals
    assert asked == []
    # another theme's variables are another parse, kept beside the first
    later.set_variables({**variables, "warning": "#00ff00"})
    later.reparse()
    assert "Tile.DEFAULT_CSS" in asked


def test_nothing_new_writes_nothing(tmp_path: Path, variables: dict[str, str]) -> None:
    _kept(tmp_path, variables)
    written = os.stat(tmp_path / PARSED_FILE).st_mtime_ns
    sources = ParsedSources(tmp_path)
    sheet = _filled(Stylesheet(variables=variables, parsed=sources.load()))
    sheet.parse()
    _save(sources, sheet)
    assert os.stat(tmp_path / PARSED_FILE).st_mtime_ns == written


def test_another_installation_is_told_apart(tmp_path: Path) -> None:
    package = types.ModuleType("textual")
    package.__file__ = str(tmp_path / "__init__.py")
    (tmp_path / "__init__.py").write_text("__all__ = []\n")
    first = installed(package)
    assert installed(package) == first
    (tmp_path / "__init__.py").unlink()
    (tmp_path / "__init__.py").write_text("__all__ = ['x']\n")  # another version installed over it
    assert installed(package) != first


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda path: path.write_bytes(b"not a pickle"), id="damaged"),
        pytest.param(lambda path: path.write_bytes(path.read_bytes()[:100]), id="cut short"),
        pytest.param(
            lambda path: path.write_bytes(
                pickle.dumps((("0.0.1", "0.0.1", "0.0.1"), pickle.loads(path.read_bytes())[1]))
            ),
            id="other versions",
        ),
        pytest.param(lambda path: path.chmod(0o644), id="readable by others"),
        pytest.param(lambda path: path.chmod(0o620), id="writable by the group"),
    ],
)
def test_a_file_not_to_trust_is_parsed_again_then_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], spoil: Callable[[Path], object]
) -> None:
    _kept(tmp_path, variables)
    spoil(tmp_path / PARSED_FILE)
    textuals = _css(_filled(TextualStylesheet(variables=variables)))
    asked = counted_parses(monkeypatch)
    sources = ParsedSources(tmp_path)
    sheet = _filled(Stylesheet(variables=variables, parsed=sources.load()))
    assert _css(sheet) == textuals
    assert "Tile.DEFAULT_CSS" in asked
    _save(sources, sheet)
    assert os.stat(tmp_path / PARSED_FILE).st_mode & 0o777 == 0o600
    assert len(ParsedSources(tmp_path).load()) == len(sheet.parsed)
