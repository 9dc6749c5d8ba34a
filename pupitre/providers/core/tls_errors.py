"""One sentence per TLS or proxy failure of an httpx request (no other pupitre import:
:mod:`~pupitre.providers.core.errors` maps transport failures with it).

:func:`describe_transport_error` turns an httpx transport failure into one sentence naming
the host: untrusted or expired certificate, host name mismatch, proxy asking for
authentication (407) or refusing the tunnel (403). Never a proxy password or a query string.
"""

from __future__ import annotations

import re

# OpenSSL X509_V_ERR_* codes carried by ssl.SSLCertVerificationError.verify_code.
_NOT_YET_VALID, _EXPIRED = 9, 10
_UNTRUSTED = {2, 18, 19, 20, 21, 27}
_NAME_MISMATCH = {62, 64}


def proxy_label(scheme: str = "https") -> str:
    """The proxy the environment sets for ``scheme`` as ``host:port`` (never its password)."""
    import urllib.request  # only when a call failed: keeps http.client and email out of start-up

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
    import ssl

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
