"""Textual's stylesheet, keeping what it parsed when it parses again.

Textual parses *every* source again (its widgets' defaults, the app's and the screens' files) in
a fresh stylesheet, with an empty cache, each time it "reparses": when a screen is first shown,
when the theme is set, when a screen's own CSS is loaded. A start of the dashboard did that
three times before its first frame (the theme, then twice for the first screen's mode), and
each screen later shown once more. Parsed rules depend on the source text, where it was read
from, its kind and scope, and the CSS variables (the theme) only: :class:`Stylesheet` keeps them
by those, across reparses and copies, so a reparse only parses what it has not seen.

The parsed sources are also kept on disk for the next start (:class:`ParsedSources`): parsing
them all is ~20 ms of the way to the first frame (issue #20), reading them back ~2 ms.

Written against Textual 8.2.8 (pinned exactly: ``pyproject.toml``); ``tests/unit/test_stylesheet.py``
checks that the rules are those Textual parses, fresh or read back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
from pathlib import Path
from types import ModuleType
from typing import TextIO

import rich
import textual
from textual.cache import LRUCache
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet as TextualStylesheet
from textual.css.types import CSSLocation

from pupitre import __version__

log = logging.getLogger("pupitre.tui")

#: Parsed sources kept (a source per widget class and file, times the themes used in one run).
PARSED_KEPT = 1024
#: The file, in the data dir, of the sources parsed by earlier starts.
PARSED_FILE = "stylesheet.cache"

ParsedKey = tuple[str, str, CSSLocation, bool, int, str]
"""The CSS variables' digest, the source text, where it was read from, its kind, tie-breaker and scope."""
Parsed = LRUCache[ParsedKey, list[RuleSet]]


def installed(package: ModuleType) -> tuple[str, int, int, int]:
    """Which installation of ``package`` this is: its ``__init__.py``'s path, inode, size and
    modification time, which an install of another version (or a patch) changes. Two ``stat``
    calls where asking the installed metadata for versions would import ``importlib.metadata``
    and read the distributions (~15 ms before the first frame, issue #20)."""
    path = str(package.__file__)
    info = os.stat(path)
    return (path, info.st_ino, info.st_size, info.st_mtime_ns)


class ParsedSources:
    """The parsed sources of earlier starts, in ``<data dir>/stylesheet.cache``: a pickle of
    Textual's rule sets, written by this user only (mode 0600, checked before it is read),
    valid for one installation of Textual and Rich (:func:`installed`) and one pupitre version.
    A file that cannot be read, is not this user's, or was written with another installation
    (of Textual, Rich — its styles are in the rules — or pupitre) is parsed again and replaced."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / PARSED_FILE
        self._versions = (installed(textual), installed(rich), __version__)
        self._read: set[ParsedKey] = set()

    def load(self) -> Parsed:
        """What earlier starts parsed (an empty cache when there is nothing to trust)."""
        parsed: Parsed = LRUCache(PARSED_KEPT)
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
                    log.warning("stylesheet cache %s not read: not this user's private file", self.path)
                    return parsed
                versions, entries = pickle.load(handle)
        except FileNotFoundError:
            return parsed
        except Exception as error:  # damaged or from another Python: parsed again, then replaced
            log.debug("stylesheet cache %s not read: %s", self.path, error)
            return parsed
        if versions != self._versions:
            return parsed
        for key, rules in entries:
            parsed[key] = rules
            self._read.add(key)
        return parsed

    def unsaved(self, parsed: Parsed) -> list[tuple[ParsedKey, list[RuleSet]]] | None:
        """``parsed``'s sources when one of them is not in the file yet, else ``None``; taken on
        the thread that parses (Textual's cache is not thread-safe), for :meth:`save` in another."""
        keys = list(parsed.keys())
        if all(key in self._read for key in keys):
            return None
        return [(key, parsed[key]) for key in keys]

    def save(self, entries: list[tuple[ParsedKey, list[RuleSet]]]) -> None:
        """Keep ``entries`` (:meth:`unsaved`) for the next start."""
        from pupitre.providers.core.files import write_atomic

        data = pickle.dumps((self._versions, entries), protocol=pickle.HIGHEST_PROTOCOL)

        def write(handle: TextIO) -> None:
            handle.buffer.write(data)

        try:
            write_atomic(self.path, write)
        except OSError as error:  # a read-only data dir: parsed again by the next start
            log.debug("stylesheet cache %s not written: %s", self.path, error)
            return
        self._read.update(key for key, _ in entries)


class Stylesheet(TextualStylesheet):
    """Textual's :class:`~textual.css.stylesheet.Stylesheet`, sharing its parsed sources with the
    stylesheets it makes (:meth:`reparse`, :meth:`copy`)."""

    def __init__(self, *, variables: dict[str, str] | None = None, parsed: Parsed | None = None) -> None:
        super().__init__(variables=variables)
        self.parsed: Parsed = LRUCache(PARSED_KEPT) if parsed is None else parsed
        self._digest: tuple[dict[str, str], str] | None = None

    def _variables_digest(self) -> str:
        """A digest of the CSS variables that is the same in every process (parsed rules depend on them)."""
        if self._digest is None or self._digest[0] is not self._variables:
            text = "\n".join(f"{name}={value}" for name, value in sorted(self._variables.items()))
            self._digest = (self._variables, hashlib.sha256(text.encode()).hexdigest())
        return self._digest[1]

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        """Textual's, first looked up among the sources parsed with the same variables."""
        key: ParsedKey = (self._variables_digest(), css, read_from, is_default_rules, tie_breaker, scope)
        rules = self.parsed.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            self.parsed[key] = rules
        return rules

    def copy(self) -> Stylesheet:
        """A copy of the sources and variables (Textual's), sharing the parsed sources."""
        stylesheet = Stylesheet(variables=self._variables.copy(), parsed=self.parsed)
        stylesheet.source = self.source.copy()
        return stylesheet

    def reparse(self) -> None:
        """Textual's: every source parsed again in a fresh stylesheet (so that an error leaves
        this one as it was), here sharing the parsed sources."""
        stylesheet = Stylesheet(variables=self._variables, parsed=self.parsed)
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
