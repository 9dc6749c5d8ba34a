"""TLS and proxies as a corporate network needs them: the OS trust store, the CA variables,
and one sentence per TLS or proxy failure.

The shared client verifies servers with the **OS trust store** (``truststore``: a company CA
added with ``update-ca-certificates``, the macOS keychain or the Windows store is trusted), to
which the CA files and directories named by ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` (``:``-separated)
and ``REQUESTS_CA_BUNDLE`` are added. Proxies come from ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``ALL_PROXY`` / ``NO_PROXY`` (httpx), SOCKS included (``socks5://``, ``socks5h://``).

:func:`describe_transport_error` turns an httpx transport failure into one sentence naming
the host: untrusted or expired certificate, host name mismatch, proxy asking for
authentication (407) or refusing the tunnel (403). Never a proxy password or a query string.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import urllib.request
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

# OpenSSL X509_V_ERR_* codes carried by ssl.SSLCertVerificationError.verify_code.
_NOT_YET_VALID, _EXPIRED = 9, 10
_UNTRUSTED = {2, 18, 19, 20, 21, 27}
_NAME_MISMATCH = {62, 64}


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


def proxy_label(scheme: str = "https") -> str:
    """The proxy the environment sets for ``scheme`` as ``host:port`` (never its password)."""
    proxies = urllib.request.getproxies()
    raw = proxies.get(scheme) or proxies.get("all") or ""
    match = re.match(r"^(?:[a-z0-9+.-]+://)?(?:[^@/]*@)?([^/?#]+)", raw, re.IGNORECASE)
    return match.group(1) if match else ""


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def describe_transport_error(exc: Exception) -> tuple[str, str] | None:
    """``(kind, sentence)`` for a TLS or proxy failure of an httpx request, else None.

    ``kind`` is ``"certificate"`` or ``"proxy"``; the sentence names the host.
    """
    import httpx

    try:
        request: httpx.Request | None = exc.request if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # raised without a request
        request = None
    host = request.url.host if request is not None else "the server"
    port = request.url.port if request is not None else None
    where = f"{host}:{port}" if port else host
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            code = cause.verify_code
            if code in _NAME_MISMATCH:
                return "certificate", f"the certificate of {where} is for another host name (host name mismatch)"
            if code == _EXPIRED:
                return "certificate", f"the certificate of {where} has expired"
            if code == _NOT_YET_VALID:
                return "certificate", f"the certificate of {where} is not valid yet (check this host's clock)"
            if code in _UNTRUSTED:
                return "certificate", (
                    f"the certificate of {where} is not trusted: its issuer is neither in the OS trust store nor in "
                    "SSL_CERT_FILE / SSL_CERT_DIR / REQUESTS_CA_BUNDLE (add your company's CA there)"
                )
            return "certificate", f"the certificate of {where} was refused ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate", f"the TLS handshake with {where} failed ({cause.reason or type(cause).__name__})"
    if isinstance(exc, httpx.ProxyError):
        proxy = proxy_label("https" if request is None or request.url.scheme == "https" else "http")
        through = f"the proxy {proxy}" if proxy else "the proxy"
        text = str(exc)
        status = re.match(r"^\s*(\d{3})\b", text)
        if status and status.group(1) == "407":
            return "proxy", (
                f"{through} asks for authentication (HTTP 407) to reach {where}: "
                "put the user and password in the proxy URL (HTTPS_PROXY=http://user:password@proxy:port)"
            )
        if status and status.group(1) == "403":
            return "proxy", f"{through} refused to connect to {where} (HTTP 403): ask for {host} to be allowed"
        if status:
            return "proxy", f"{through} could not open a tunnel to {where} (HTTP {status.group(1)})"
        return "proxy", f"{through} could not reach {where} ({_no_credentials(text) or type(exc).__name__})"
    return None


def _no_credentials(text: str) -> str:
    return re.sub(r"//[^@/\s]*@", "//", text)[:120]
