"""Certificates, thumbprints (GRTgaz §11.2.2), key loading and cached sandbox credentials."""

from __future__ import annotations

import base64
import hashlib
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID

from pupitre.providers.core import certs
from pupitre.providers.core.errors import ConfigError
from tests.unit.pem import pem_block, pem_header

PASSPHRASE = b"Tr0ub4dor&3-passphrase"


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return certs.generate_self_signed("unit-test", key_size=1024, days=30)


@pytest.fixture(scope="module")
def encrypted_pair() -> tuple[bytes, bytes]:
    return certs.generate_self_signed("unit-test-enc", key_size=1024, passphrase=PASSPHRASE)


def _der(cert_pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert_pem.decode())


def test_generate_self_signed(pair: tuple[bytes, bytes]) -> None:
    key_pem, cert_pem = pair
    assert key_pem.startswith(pem_header("PRIVATE KEY"))
    cert = certs.load_certificate(cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "unit-test"
    assert cert.issuer == cert.subject
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 31
    assert certs.key_matches_certificate(certs.load_private_key(key_pem), cert)


def test_generate_with_passphrase(encrypted_pair: tuple[bytes, bytes]) -> None:
    key_pem, cert_pem = encrypted_pair
    assert key_pem.startswith(pem_header("ENCRYPTED PRIVATE KEY"))
    key = certs.load_private_key(key_pem, PASSPHRASE)
    assert certs.key_matches_certificate(key, certs.load_certificate(cert_pem))


def test_x5t_sha1_is_padded_base64_of_sha1_der(pair: tuple[bytes, bytes]) -> None:
    expected = base64.b64encode(hashlib.sha1(_der(pair[1])).digest()).decode()
    assert certs.x5t_sha1(pair[1]) == expected
    assert len(expected) == 28 and expected.endswith("=")


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_x5t_sha1_matches_the_documented_openssl_command(pair: tuple[bytes, bytes], tmp_path: Path) -> None:
    """GRTgaz §11.2.2: openssl x509 -fingerprint | sed | xxd -r -ps | base64."""
    path = tmp_path / "certificate.crt"
    path.write_bytes(pair[1])
    out = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-fingerprint", "-sha1", "-noout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    hex_digest = out.strip().split("=", 1)[1].replace(":", "")
    assert certs.x5t_sha1(pair[1]) == base64.b64encode(bytes.fromhex(hex_digest)).decode()


def test_x5t_s256_is_unpadded_base64url_of_sha256_der(pair: tuple[bytes, bytes]) -> None:
    digest = hashlib.sha256(_der(pair[1])).digest()
    value = certs.x5t_s256(pair[1])
    assert value == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert len(value) == 43 and "=" not in value and "+" not in value and "/" not in value


def test_load_certificate_refuses_garbage() -> None:
    with pytest.raises(ConfigError, match="PEM X.509"):
        certs.load_certificate(b"not a certificate")


def _assert_no_key_material(text: str, *pems: bytes) -> None:
    assert "BEGIN" not in text and PASSPHRASE.decode() not in text
    for pem in pems:
        for line in pem.decode().splitlines():
            if not line.startswith("-----"):
                assert line not in text


@pytest.mark.parametrize(
    "passphrase, message",
    [
        (b"not-the-passphrase", "wrong passphrase"),
        (None, "encrypted: set its passphrase"),
    ],
)
def test_encrypted_key_errors(encrypted_pair: tuple[bytes, bytes], passphrase: bytes | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        certs.load_private_key(encrypted_pair[0], passphrase)
    _assert_no_key_material(str(info.value), encrypted_pair[0])
    assert "not-the-passphrase" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_plain_key_with_passphrase_and_garbage(pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ConfigError, match="not encrypted") as info:
        certs.load_private_key(pair[0], PASSPHRASE)
    _assert_no_key_material(str(info.value), pair[0])
    with pytest.raises(ConfigError, match="not a readable PEM key"):
        certs.load_private_key(pem_block("PRIVATE KEY", b"AAAA"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sandbox_credentials_generated_once_with_private_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "sandbox" / "keys"
    first = certs.sandbox_credentials(directory, "grtgaz", key_size=1024)
    assert _mode(directory) == 0o700
    files = sorted(p.name for p in directory.iterdir())
    assert files == ["grtgaz.cert.pem", "grtgaz.key.pem"]
    assert all(_mode(directory / name) == 0o600 for name in files)

    def no_generation(*args: object, **kwargs: object) -> tuple[bytes, bytes]:
        raise AssertionError("regenerated instead of reusing the cached files")

    monkeypatch.setattr(certs, "generate_self_signed", no_generation)
    (directory / "grtgaz.key.pem").chmod(0o644)
    assert certs.sandbox_credentials(directory, "grtgaz", key_size=1024) == first
    assert _mode(directory / "grtgaz.key.pem") == 0o600


def test_sandbox_credentials_regenerates_a_broken_pair(tmp_path: Path) -> None:
    first = certs.sandbox_credentials(tmp_path, "edf", key_size=1024)
    (tmp_path / "edf.cert.pem").write_bytes(b"damaged")
    second = certs.sandbox_credentials(tmp_path, "edf", key_size=1024)
    assert second != first
    assert certs.key_matches_certificate(certs.load_private_key(second[0]), certs.load_certificate(second[1]))
    assert (tmp_path / "edf.cert.pem").read_bytes() == second[1]
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden"])
def test_sandbox_credentials_refuses_bad_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        certs.sandbox_credentials(tmp_path, name, key_size=1024)
