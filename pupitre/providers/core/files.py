"""Files the operator keeps (exports): written whole or not at all.

:func:`write_atomic` writes to a temporary file in the target directory, flushes it to
disk, sets mode 0600 and then renames it over the target (``os.replace``), so a reader
— or the operator attaching the file to an e-mail — never sees half a file, and a
crash leaves at most a hidden ``.tmp`` file. A missing directory is created 0700.
:class:`CsvJournal` is the exception, for long runs: rows flushed as they arrive to a
``.part`` file, removed once the whole result is written.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO

from pupitre.providers.core.text import csv_cell as _cell


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) with mode 0700 when it does not exist."""
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)
    return directory


def write_atomic(
    path: Path | str, write: Callable[[TextIO], None], *, encoding: str = "utf-8", exclusive: bool = False
) -> Path:
    """Call ``write(handle)`` on a temporary file, then move it to ``path``; returns ``path``.

    ``exclusive`` refuses to replace an existing file (:class:`FileExistsError`): the
    rename is then a hard link + unlink, which fails when ``path`` appeared meanwhile.
    """
    path = Path(path)
    directory = ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        if exclusive:
            os.link(tmp, path)  # FileExistsError if the name is taken
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_dir(configured: str, data_dir: Path) -> Path:
    """Where a provider's export files go: the ``export_dir`` setting (``~`` expanded), or
    ``<data dir>/exports`` when it is empty."""
    configured = (configured or "").strip()
    return Path(configured).expanduser() if configured else data_dir / "exports"


def write_csv(rows: Iterable[Mapping[str, Any]], path: Path | str, columns: Sequence[str] | None = None) -> Path:
    """Write ``rows`` to ``path`` (header first) atomically, mode 0600; returns the path.

    ``columns`` defaults to the first row's keys; give it so that an empty report
    still writes its header. The parent directory is created with mode 0700.
    """
    rows = list(rows)
    path = Path(path)
    if columns is None:
        if not rows:
            raise ValueError("no rows and no columns: nothing to write")
        columns = list(rows[0])

    def write(handle: Any) -> None:
        # UTF-8 with a BOM: spreadsheets then read the accents ("Énergie Ouest") right.
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})

    write_atomic(path, write, encoding="utf-8-sig")
    return path


class CsvJournal:
    """A CSV written row by row as results arrive (``<name>.part``, mode 0600, flushed to
    disk after each :meth:`add`), for long runs: if pupitre stops mid-run (a crash, an SSH
    session dropped) what was fetched is on disk. The finished result is still written
    whole by :func:`write_csv`; :meth:`discard` then removes the journal. Cells are escaped
    as :func:`write_csv` does."""

    def __init__(self, path: Path | str, columns: Sequence[str]) -> None:
        self.path = Path(path)
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never another file
        self._handle = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=list(columns), extrasaction="raise")
        self._writer.writeheader()
        self._sync()

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self._writer.writerow({key: _cell(value) for key, value in row.items()})
        self._sync()

    def _sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

    def discard(self) -> None:
        """The result was written whole: the journal is no longer needed."""
        self.close()
        self.path.unlink(missing_ok=True)
