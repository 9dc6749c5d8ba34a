"""A certificate file's end of validity, remembered so that reading it again costs no parse.

The GRTgaz client certificate's end date (§12.2) is asked by every ``pupitre check`` and by
the Overview every second; parsing it means importing ``cryptography.x509`` (~50 ms of every
start). What is derived from the file — its end date, or that it is not a certificate — is
kept in memory and in ``certificates.json`` in the data dir, keyed by the file's absolute
path, size and modification time (ns): a file replaced or rewritten is parsed again. The
file holds no certificate and never a key; losing it only costs one parse.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("pupitre.certs")

CACHE_FILE = "certificates.json"
#: Entries kept in the cache file (a host has one or two certificates; old paths fall off).
MAX_ENTRIES = 16

Stamp = tuple[int, int]
"""A file's size and modification time in nanoseconds."""


def _stamp(path: str) -> Stamp | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def parse_end(pem: bytes) -> dt.datetime | None:
    """The end of validity (UTC) of a PEM certificate; ``None`` when it is not one."""
    from pupitre.providers.core.certs import load_certificate
    from pupitre.providers.core.errors import ConfigError

    try:
        return load_certificate(pem).not_valid_after_utc
    except (ValueError, ConfigError):
        return None


class CertificateDates:
    """End dates of certificate files, parsed once per version of each file (in memory, and
    for later processes in ``<cache_dir>/certificates.json``)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_file = Path(cache_dir) / CACHE_FILE
        self._known: dict[str, tuple[Stamp, dt.datetime | None]] = {}
        self._loaded = False

    def end_of(self, path: Path) -> dt.datetime | None:
        """The end of validity of the certificate in ``path``; ``None`` when the file cannot
        be read or is not a PEM certificate."""
        name = os.path.abspath(path)
        stamp = _stamp(name)
        if stamp is None:
            return None
        known = self._known.get(name)
        if known is None and not self._loaded:
            self._read_cache()
            known = self._known.get(name)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            pem = Path(name).read_bytes()
        except OSError:
            return None
        ends = parse_end(pem)
        if _stamp(name) == stamp:  # not rewritten while it was read: the answer belongs to this stamp
            self._known[name] = (stamp, ends)
            self._write_cache()
        return ends

    def _read_cache(self) -> None:
        self._loaded = True
        try:
            entries = json.loads(self.cache_file.read_text(encoding="utf-8"))["files"]
            for name, entry in entries.items():
                ends = entry["not_after"]
                self._known.setdefault(
                    name,
                    (
                        (int(entry["size"]), int(entry["mtime_ns"])),
                        None if ends is None else dt.datetime.fromisoformat(ends),
                    ),
                )
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:  # damaged: rebuilt on a miss
            log.debug("certificate dates cache %s not used: %s", self.cache_file, error)

    def _write_cache(self) -> None:
        from pupitre.providers.core.files import write_atomic

        entries: dict[str, Any] = {
            name: {"size": stamp[0], "mtime_ns": stamp[1], "not_after": None if ends is None else ends.isoformat()}
            for name, (stamp, ends) in list(self._known.items())[-MAX_ENTRIES:]
        }
        try:
            write_atomic(self.cache_file, lambda handle: json.dump({"files": entries}, handle))
        except OSError as error:  # a read-only data dir: parsed again by the next process
            log.debug("certificate dates cache %s not written: %s", self.cache_file, error)
