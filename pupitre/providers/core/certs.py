"""X.509 helpers for certificate-based client authentication (GRTgaz §11.2.2).

Self-signed key pairs for tests and the sandbox, certificate thumbprints for the
JWT ``x5t`` / ``x5t#S256`` headers, and passphrase-protected private key loading.
Errors are :class:`ConfigError` and never contain key material.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pupitre.providers.core.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
log = logging.getLogger("pupitre.certs")
#: sandbox pairs that could not be written, by (directory, name): one pair per process
_UNSAVED: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def generate_self_signed(
    common_name: str, *, key_size: int = 2048, days: int = 365, passphrase: bytes | None = None
) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate: ``(private_key_pem, certificate_pem)``.

    With ``passphrase`` the key PEM is encrypted (PKCS#8, best available cipher).
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse a PEM certificate; :class:`ConfigError` if it is not one."""
    try:
        return x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError):
        raise ConfigError(
            "the client certificate is not a readable PEM X.509 certificate "
            "(expected a file starting with -----BEGIN CERTIFICATE-----)"
        ) from None


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key (PEM, optionally encrypted); :class:`ConfigError` on failure.

    The message says what is wrong (passphrase missing, wrong, or key unreadable)
    without echoing the key or the passphrase. Loaded keys are cached: OpenSSL's RSA
    consistency check costs ~70 ms, paid once per key and process.
    """
    cache_key = (pem, passphrase or None)
    if cache_key not in _KEYS:
        _KEYS[cache_key] = _parse_private_key(pem, passphrase or None)
    return _KEYS[cache_key]


#: Loaded keys by (PEM, passphrase); a process uses one or two.
_KEYS: dict[tuple[bytes, bytes | None], rsa.RSAPrivateKey] = {}


def _parse_private_key(pem: bytes, passphrase: bytes | None, trusted: bool = False) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(
            pem, password=passphrase or None, unsafe_skip_rsa_key_validation=trusted
        )
    except TypeError:
        if passphrase:
            raise ConfigError(
                "the private key is not encrypted but a passphrase was given; remove the passphrase setting"
            ) from None
        raise ConfigError("the private key is encrypted: set its passphrase") from None
    except ValueError:
        if passphrase:
            raise ConfigError("cannot decrypt the private key: wrong passphrase, or the key file is damaged") from None
        raise ConfigError(
            "the private key is not a readable PEM key (expected a file starting with -----BEGIN ... PRIVATE KEY-----)"
        ) from None
    except Exception as exc:  # unsupported algorithm and the like
        raise ConfigError(f"cannot load the private key ({type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("the private key must be an RSA key (RS256/PS256 signing)")
    return key


def key_matches_certificate(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
    """True when ``cert`` carries the public half of ``key``."""
    public = cert.public_key()
    return isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == key.public_key().public_numbers()


def _der(cert_pem: bytes) -> bytes:
    return load_certificate(cert_pem).public_bytes(serialization.Encoding.DER)


def x5t_sha1(cert_pem: bytes) -> str:
    """``x5t`` as GRTgaz §11.2.2 shows it: standard base64 (padded) of SHA-1(DER).

    Same as ``openssl x509 -fingerprint -noout | … | xxd -r -ps | base64``,
    e.g. ``tB8kYbYJbQZ6RINtsw/vmhfj2RI=``.
    """
    return base64.b64encode(hashlib.sha1(_der(cert_pem)).digest()).decode("ascii")


def x5t_s256(cert_pem: bytes) -> str:
    """``x5t#S256`` per RFC 7515 §4.1.8: base64url of SHA-256(DER), no padding."""
    digest = hashlib.sha256(_der(cert_pem)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_pair(key_path: Path, cert_path: Path) -> tuple[bytes, bytes] | None:
    try:
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        # Our own generated key: skip OpenSSL's slow consistency check (~70 ms) and
        # remember it for :func:`load_private_key`.
        key = _parse_private_key(key_pem, None, trusted=True)
        if not key_matches_certificate(key, load_certificate(cert_pem)):
            return None
        _KEYS[(key_pem, None)] = key
    except (OSError, ConfigError):
        return None
    for path in (key_path, cert_path):
        os.chmod(path, 0o600)
    return key_pem, cert_pem


def sandbox_credentials(directory: Path, name: str, *, key_size: int = 2048) -> tuple[bytes, bytes]:
    """The sandbox's key and certificate for ``name``, generated once and then reused.

    Files ``<name>.key.pem`` and ``<name>.cert.pem`` (mode 0600) live in ``directory``
    (created with mode 0700). A missing, unreadable or mismatched pair is regenerated.
    When ``directory`` cannot be written (read-only data dir, full disk), the pair is kept
    in memory for this process: the sandbox still runs.
    """
    if not _NAME.match(name):
        raise ConfigError(f"bad sandbox credential name {name!r}: letters, digits, '.', '_', '-'")
    directory = Path(directory)
    key_path, cert_path = directory / f"{name}.key.pem", directory / f"{name}.cert.pem"
    unsaved = _UNSAVED.get((str(directory), name))
    if unsaved is not None:
        return unsaved
    existing = _read_pair(key_path, cert_path)
    if existing is not None:
        return existing
    key_pem, cert_pem = generate_self_signed(f"pupitre sandbox {name}", key_size=key_size)
    try:
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
        _write_private(key_path, key_pem)
        _write_private(cert_path, cert_pem)
    except OSError as error:
        log.warning("sandbox credentials for %s kept in memory: %s cannot be written (%s)", name, directory, error)
        _UNSAVED[(str(directory), name)] = (key_pem, cert_pem)
    return key_pem, cert_pem
