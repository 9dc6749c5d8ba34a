"""The log file: user-only (0600), rotating, in the data dir; never the terminal under the dashboard.

When the data dir cannot be written (read-only, full), the log goes to a user-only
directory in the system's temporary directory; when that fails too, logging is
disabled. :data:`STATE` says which, so the dashboard's banner and the crash sentence
can tell the operator where the details are (or that there are none). A log write
that fails later (disk full) is dropped silently: it must never print on the terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import stat
import sys
import tempfile
from pathlib import Path

import msgspec

from pupitre.providers.core.text import SafeLogFormatter

MAX_BYTES = 2_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class IsoFormatter(SafeLogFormatter):
    """:class:`SafeLogFormatter` with each record's time in ISO 8601, Paris time with its UTC
    offset (``2026-12-06T09:32:11.123+01:00``): the screen's time zone, unambiguous in any
    host's zone and across the DST change."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        from pupitre.providers.core.clock import PARIS

        moment = dt.datetime.fromtimestamp(record.created, PARIS)
        return moment.isoformat(timespec="milliseconds")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (rotations included) is created user-only (0600)."""

    def _open(self):  # type: ignore[no-untyped-def]  # typeshed's return type is private to logging
        os.close(os.open(self.baseFilename, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        os.chmod(self.baseFilename, 0o600)
        return super()._open()


class LogState(msgspec.Struct):
    """Where the log goes: ``path`` (``None``: disabled) and, when it is not the data dir's
    log, ``problem``: why (one sentence for the operator)."""

    path: Path | None = None
    problem: str = ""

    @property
    def fallback(self) -> bool:
        return bool(self.problem)

    def where(self) -> str:
        """Where the details of an error are, as a sentence ending."""
        if self.path is None:
            return f"no log could be written ({self.problem or 'logging not set up'})"
        return f"details in the log {self.path}"


STATE = LogState(problem="logging not set up")


def fallback_log_path() -> Path:
    """A user-only directory in the temporary directory (``/tmp/pupitre-<uid>/pupitre.log``)."""
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return Path(tempfile.gettempdir()) / f"pupitre-{uid}" / "pupitre.log"


def _private_dir(path: Path) -> None:
    """Create ``path`` (0700); refuse one that is a symlink, not ours, or open to others."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PermissionError(f"{path} is not a plain directory")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)


def _handler(path: Path) -> logging.Handler:
    _private_dir(path.parent)
    handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    # control characters in any record (API text, paths, exceptions) are made visible
    handler.setFormatter(IsoFormatter(FORMAT))
    return handler


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def setup_logging(path: Path | None = None, *, to_stderr: bool = False, level: str = "info") -> LogState:
    """Log to ``path`` (default: the data dir's log), else the fallback, else nowhere, what is
    at ``level`` or above (:data:`LEVELS`; ``--log-level`` / ``PUPITRE_LOG_LEVEL``)."""
    from pupitre.providers.core.config import log_path

    logging.raiseExceptions = False  # a failed log write must never print a traceback
    wanted = path if path is not None else log_path()
    try:
        handler, state = _handler(wanted), LogState(wanted)
    except OSError as error:
        problem = f"the log {wanted} cannot be written: {_reason(error)}"
        fallback = fallback_log_path()
        try:
            handler, state = _handler(fallback), LogState(fallback, problem)
        except OSError as second:
            handler = logging.NullHandler()
            state = LogState(None, f"{problem}; nor {fallback}: {_reason(second)}")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if to_stderr:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(SafeLogFormatter())
        root.addHandler(stderr)
    root.setLevel(LEVELS[level])
    # httpx's own lines repeat pupitre's request log (pupitre.http) with the query strings, which
    # may hold identifiers: never below warning, debug included
    logging.getLogger("httpx").setLevel(logging.WARNING)
    STATE.path, STATE.problem = state.path, state.problem
    if state.problem:
        logging.getLogger("pupitre").warning("logging to %s: %s", state.path or "nowhere", state.problem)
    return STATE
