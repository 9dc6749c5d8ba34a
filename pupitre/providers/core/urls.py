"""URL rules without importing httpx: https only, plain http only to loopback."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pupitre.providers.core.errors import ConfigError

SANDBOX_HOST_SUFFIX = ".sandbox.invalid"


def is_loopback(host: str) -> bool:
    """Loopback addresses, ``localhost`` and the in-process sandbox hosts."""
    if host == "localhost" or host.endswith(SANDBOX_HOST_SUFFIX):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse plain http except to loopback; return the URL without a trailing slash."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ConfigError(f"not a valid URL: {url!r}") from None
    if not host:
        raise ConfigError(f"not a valid URL (no host): {url!r}")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return url.rstrip("/")
    raise ConfigError(
        f"refusing {parts.scheme}://{host}: real endpoints must use https (plain http is only allowed to loopback)"
    )
