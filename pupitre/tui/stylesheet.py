"""Textual's stylesheet, keeping what it parsed when it parses again.

Textual parses *every* source again (its widgets' defaults, the app's and the screens' files) in
a fresh stylesheet, with an empty cache, each time it "reparses": when a screen is first shown,
when the theme is set, when a screen's own CSS is loaded. A start of the dashboard did that
three times before its first frame (the theme, then twice for the first screen's mode), and
each screen later shown once more. Parsed rules depend on the source text, where it was read
from, its kind and scope, and the CSS variables (the theme) only: :class:`Stylesheet` keeps them
by those, across reparses and copies, so a reparse only parses what it has not seen.

Written against Textual 8.2.8 (pinned exactly: ``pyproject.toml``); ``tests/unit/test_stylesheet.py``
checks that the rules are those Textual parses.
"""

from __future__ import annotations

from textual.cache import LRUCache
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet as TextualStylesheet
from textual.css.types import CSSLocation

#: Parsed sources kept (a source per widget class and file, times the themes used in one run).
PARSED_KEPT = 1024

ParsedKey = tuple[frozenset[tuple[str, str]], str, CSSLocation, bool, int, str]


class Stylesheet(TextualStylesheet):
    """Textual's :class:`~textual.css.stylesheet.Stylesheet`, sharing its parsed sources with the
    stylesheets it makes (:meth:`reparse`, :meth:`copy`)."""

    def __init__(
        self, *, variables: dict[str, str] | None = None, parsed: LRUCache[ParsedKey, list[RuleSet]] | None = None
    ) -> None:
        super().__init__(variables=variables)
        self._parsed: LRUCache[ParsedKey, list[RuleSet]] = LRUCache(PARSED_KEPT) if parsed is None else parsed

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        """Textual's, first looked up among the sources parsed with the same variables."""
        key: ParsedKey = (frozenset(self._variables.items()), css, read_from, is_default_rules, tie_breaker, scope)
        rules = self._parsed.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            self._parsed[key] = rules
        return rules

    def copy(self) -> Stylesheet:
        """A copy of the sources and variables (Textual's), sharing the parsed sources."""
        stylesheet = Stylesheet(variables=self._variables.copy(), parsed=self._parsed)
        stylesheet.source = self.source.copy()
        return stylesheet

    def reparse(self) -> None:
        """Textual's: every source parsed again in a fresh stylesheet (so that an error leaves
        this one as it was), here sharing the parsed sources."""
        stylesheet = Stylesheet(variables=self._variables, parsed=self._parsed)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            stylesheet.add_source(
                css, read_from=read_from, is_default_css=is_defaults, tie_breaker=tie_breaker, scope=scope
            )
        try:
            stylesheet.parse()
        except Exception:
            # as Textual: remember the invalid CSS, or it is parsed again before the app quits
            self._invalid_css.update(stylesheet._invalid_css)
            raise
        self._rules = stylesheet.rules
        self._rules_map = None
        self.source = stylesheet.source
        self._require_parse = False
