"""Files the operator keeps (exports): written whole or not at all.

:func:`write_atomic` writes to a temporary file in the target directory, flushes it to
disk, sets mode 0600 and then renames it over the target (``os.replace``), so a reader
— or the operator attaching the file to an e-mail — never sees half a file, and a
crash leaves at most a hidden ``.tmp`` file. A missing directory is created 0700.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TextIO


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) with mode 0700 when it does not exist."""
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)
    return directory


def write_atomic(path: Path | str, write: Callable[[TextIO], None], *, encoding: str = "utf-8",
                 exclusive: bool = False) -> Path:
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
