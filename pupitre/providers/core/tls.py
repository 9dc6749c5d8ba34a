"""TLS and proxies as a corporate network needs them: the OS trust store, the CA variables
(a failure in one sentence: :mod:`~pupitre.providers.core.tls_errors`).

The shared client verifies servers with the **OS trust store** (``truststore``: a company CA
added with ``update-ca-certificates``, the macOS keychain or the Windows store is trusted), to
which the CA files and directories named by ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` (``:``-separated)
and ``REQUESTS_CA_BUNDLE`` are added. Proxies come from ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``ALL_PROXY`` / ``NO_PROXY`` (httpx), SOCKS included (``socks5://``, ``socks5h://``).
"""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path
from typing import Mapping

from pupitre.providers.core.errors import ConfigError

CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
CA_DIR_VARIABLE = "SSL_CERT_DIR"
#: Where Linux distributions keep the system bundle (truststore's own list). OpenSSL looks
#: there only while SSL_CERT_FILE / SSL_CERT_DIR are unset; pupitre adds those variables'
#: CAs to the system ones instead of replacing them.
SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)


def ssl_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The client context: the OS trust store plus the CAs named by the environment.

    :class:`ConfigError` when a variable names a file or directory that does not exist or
    holds no readable certificate (a typo must not silently leave the company CA out).
    """
    import truststore

    env = os.environ if env is None else env
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    loaded: set[Path] = set()  # each file once: parsing a system bundle costs ~50 ms
    named = [name for name in (*CA_FILE_VARIABLES, CA_DIR_VARIABLE) if env.get(name)]
    if named and sys.platform.startswith("linux"):
        system = next((Path(path) for path in SYSTEM_CA_FILES if os.path.isfile(path)), None)
        if system is not None:
            context.load_verify_locations(cafile=str(system))
            loaded.add(system.resolve())
    for name in CA_FILE_VARIABLES:
        if env.get(name):
            _load(context, name, Path(env[name]).expanduser(), directory=False, loaded=loaded)
    for raw in (env.get(CA_DIR_VARIABLE) or "").split(os.pathsep):
        if raw:
            _load(context, CA_DIR_VARIABLE, Path(raw).expanduser(), directory=True, loaded=loaded)
    return context


def _load(context: ssl.SSLContext, variable: str, path: Path, *, directory: bool, loaded: set[Path]) -> None:
    kind = "directory" if directory else "file"
    if not (path.is_dir() if directory else path.is_file()):
        raise ConfigError(f"{variable}={path}: no such CA {kind}; fix or unset {variable}")
    if path.resolve() in loaded:
        return
    loaded.add(path.resolve())
    try:
        if directory:
            context.load_verify_locations(capath=str(path))
        else:
            context.load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"{variable}={path}: not a readable PEM CA {kind} ({reason})") from None


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def environment_problems(env: Mapping[str, str] | None = None) -> list[str]:
    """What in the environment would stop the network side: CA variables naming nothing,
    proxy variables with a scheme httpx cannot use (``pupitre config check`` prints them)."""
    env = os.environ if env is None else env
    found: list[str] = []
    try:
        ssl_context(env)
    except ConfigError as exc:
        found.append(str(exc))
    for name in PROXY_VARIABLES:
        for variable in (name, name.lower()):
            value = env.get(variable, "")
            scheme = value.split("://", 1)[0].lower() if "://" in value else ""
            if value and scheme not in PROXY_SCHEMES:
                found.append(
                    f"{variable}: a proxy URL must start with {', '.join(s + '://' for s in PROXY_SCHEMES)} "
                    f"(found {scheme + '://' if scheme else 'no scheme'})"
                )
    return found
