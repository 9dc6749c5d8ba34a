"""Files an operator gives to import (a watch-list saved by a spreadsheet, a text file):
read as they are saved, refused in one sentence when they cannot be read.

UTF-8 (with or without the BOM spreadsheets write) is read as is; a file that is not UTF-8
is read as Windows-1252 — what French Excel writes as "CSV" — with a note saying so, so the
operator can check its accented characters. A missing file, a folder, a file that may not be
read or is too large: :class:`ImportRefused` with one sentence, never a Python error name.
"""

from __future__ import annotations

import errno
from pathlib import Path

import msgspec

MAX_IMPORT_BYTES = 1_000_000


class ImportRefused(ValueError):
    """The file cannot be imported; the message is one sentence for the operator."""


class ImportedText(msgspec.Struct, frozen=True):
    path: Path
    text: str
    note: str | None = None
    """Said to the operator with the result (the encoding pupitre fell back to)."""


def read_import(path_text: str, max_bytes: int = MAX_IMPORT_BYTES) -> ImportedText:
    """The text of the file at ``path_text`` (``~`` expanded); :class:`ImportRefused` otherwise."""
    if not path_text.strip():
        raise ImportRefused("type the path of the file to import")
    path = Path(path_text.strip()).expanduser()
    try:
        if path.is_dir():
            raise ImportRefused(f"{path} is a folder: give the path of a file in it")
        if path.stat().st_size > max_bytes:
            raise ImportRefused(f"{path} is larger than {max_bytes // 1_000_000} MB: is it the right file?")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"there is no file {path}") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path} is a folder: give the path of a file in it") from None
    except PermissionError:
        raise ImportRefused(f"{path} may not be read by you (permission denied): check its owner and mode") from None
    except OSError as error:
        reason = error.strerror or errno.errorcode.get(error.errno or 0, "") or "the system refused"
        raise ImportRefused(f"{path} cannot be read: {reason.lower()}") from None
    try:
        return ImportedText(path, data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    return ImportedText(
        path,
        data.decode("cp1252", errors="replace"),
        "read as Windows-1252 (the file is not UTF-8, as Excel saves CSV in French): check accented text",
    )
