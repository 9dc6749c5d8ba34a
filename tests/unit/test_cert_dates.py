"""A certificate file's end date, parsed once per version of the file (GRTgaz §12.2 warning)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pupitre.providers.core import cert_dates, certs
from pupitre.providers.core.cert_dates import CACHE_FILE, CertificateDates


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return certs.generate_self_signed("cert-dates", key_size=1024, days=30)


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every parse of a certificate from now on."""
    seen: list[bytes] = []
    parse = cert_dates.parse_end

    def counted(pem: bytes) -> object:
        seen.append(pem)
        return parse(pem)

    monkeypatch.setattr(cert_dates, "parse_end", counted)
    return seen


def test_end_date_read_once_then_from_memory_and_the_cache_file(
    tmp_path: Path, pair: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = tmp_path / "client.cert.pem"
    cert.write_bytes(pair[1])
    expected = certs.load_certificate(pair[1]).not_valid_after_utc
    parses = _parses(monkeypatch)
    dates = CertificateDates(tmp_path / "data")
    assert dates.end_of(cert) == expected
    assert dates.end_of(cert) == expected
    assert len(parses) == 1
    assert CertificateDates(tmp_path / "data").end_of(cert) == expected  # a later process: the file
    assert len(parses) == 1
    cache = tmp_path / "data" / CACHE_FILE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    stored = cache.read_text()
    assert "BEGIN" not in stored and str(cert) in stored and json.loads(stored)["files"]


def test_a_rewritten_file_is_parsed_again(tmp_path: Path, pair: tuple[bytes, bytes]) -> None:
    cert = tmp_path / "client.cert.pem"
    cert.write_bytes(pair[1])
    dates = CertificateDates(tmp_path)
    first = dates.end_of(cert)
    _, renewed = certs.generate_self_signed("cert-dates", key_size=1024, days=400)
    cert.write_bytes(renewed)
    info = cert.stat()
    os.utime(cert, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))  # a coarse clock: a new stamp anyway
    later = dates.end_of(cert)
    assert first is not None and later is not None and (later - first).days >= 369
    assert CertificateDates(tmp_path).end_of(cert) == later


def test_not_a_certificate_missing_file_and_damaged_cache(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a certificate")
    (tmp_path / CACHE_FILE).write_text("{damaged")
    dates = CertificateDates(tmp_path)
    assert dates.end_of(junk) is None
    assert dates.end_of(tmp_path / "missing.pem") is None
    assert json.loads((tmp_path / CACHE_FILE).read_text())["files"][str(junk)]["not_after"] is None


def test_a_read_only_cache_dir_still_answers(tmp_path: Path, pair: tuple[bytes, bytes]) -> None:
    cert = tmp_path / "client.cert.pem"
    cert.write_bytes(pair[1])
    cache_dir = tmp_path / "ro"
    cache_dir.mkdir()
    cache_dir.chmod(0o500)
    try:
        if os.access(cache_dir, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        assert CertificateDates(cache_dir).end_of(cert) is not None
    finally:
        cache_dir.chmod(0o700)


def test_a_known_certificate_does_not_load_cryptography(tmp_path: Path, pair: tuple[bytes, bytes]) -> None:
    cert = tmp_path / "client.cert.pem"
    cert.write_bytes(pair[1])
    CertificateDates(tmp_path).end_of(cert)
    code = (
        "import sys\nfrom pathlib import Path\nfrom pupitre.providers.core.cert_dates import CertificateDates\n"
        f"ends = CertificateDates(Path({str(tmp_path)!r})).end_of(Path({str(cert)!r}))\n"
        "print(ends.isoformat(), 'cryptography' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [certs.load_certificate(pair[1]).not_valid_after_utc.isoformat(), "False"]
