"""Typed API errors with operator-readable messages.

Every error that can reach the UI is a :class:`ApiError` subclass. Its ``str()``
is what the operator reads: it names the provider and what to do, and never
contains a header, a token or a secret (the request log and these messages only
ever see method, path and status).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pupitre.providers.core.tls_errors import describe_transport_error

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("pupitre.http")


class ApiError(Exception):
    """Base class: ``provider`` and an operator-readable ``message``.

    ``uncertain``: whether the API may have acted on the request although pupitre has no
    answer it can trust (a timeout or a cut after the request left, a 5xx). False when an
    answer says nothing was done (a 4xx, a quota refusal) or when it is known that no byte of
    the request left (the connection was refused, the host name did not resolve, the token
    could not be fetched): the outbox marks an action "may have reached the API" only when
    it is true."""

    kind = "error"
    retryable = False
    uncertain = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        #: What a streamed read received before it failed (raw objects), else empty.
        self.partial: list[Any] = []
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status})" if self.status else ""
        detail = f" — {self.detail}" if self.detail else ""
        return f"{prefix}{self.message}{status}{detail}"


class AuthError(ApiError):
    kind = "auth"


class ForbiddenError(ApiError):
    kind = "forbidden"


class NotFoundError(ApiError):
    kind = "not found"


class ConflictError(ApiError):
    kind = "conflict"


class BadRequestError(ApiError):
    kind = "bad request"


class QuotaError(ApiError):
    kind = "quota"
    retryable = True


class ServerError(ApiError):
    kind = "server"
    retryable = True
    uncertain = True


class NetworkError(ApiError):
    kind = "network"
    retryable = True
    uncertain = True


class CertificateError(NetworkError):
    """The server's certificate was refused (untrusted, expired, another host name).

    Retryable like any network failure: nothing reached the API, and an action waiting in
    the outbox must survive until the trust store is fixed."""

    kind = "certificate"


class ProxyError(NetworkError):
    """The proxy asked for authentication (407), refused the tunnel (403) or failed."""

    kind = "proxy"


class PayloadError(ApiError):
    """The API answered 2xx but the body is not valid JSON or not the documented shape."""

    kind = "bad payload"


class ConfigError(Exception):
    """Settings or secrets are missing or unsafe; the message says how to fix it."""


class NotConnected(ConfigError):
    """A provider with real settings that cannot use its API (a setting or a secret is missing,
    unreadable or too slow to read): shown as "not connected", never silently simulated."""


_STATUS_MESSAGES: dict[int, tuple[type[ApiError], str]] = {
    400: (BadRequestError, "request refused as invalid"),
    401: (AuthError, "authentication refused — check the credentials"),
    403: (ForbiddenError, "access forbidden for these credentials"),
    404: (NotFoundError, "not found"),
    409: (ConflictError, "conflict with the current state"),
    429: (QuotaError, "quota exceeded — slowing down"),
}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for_response(response: httpx.Response, provider: str, detail: str = "") -> ApiError:
    """Map an HTTP error response to a typed error (``detail`` is API text, already safe)."""
    status = response.status_code
    if status in _STATUS_MESSAGES:
        cls, message = _STATUS_MESSAGES[status]
    elif status >= 500:
        cls, message = ServerError, "server error — the API is failing, will retry"
    else:
        cls, message = BadRequestError, "unexpected answer"
    return cls(message, provider=provider, status=status, detail=detail[:300], retry_after=_retry_after(response))


def nothing_sent(exc: Exception) -> bool:
    """Whether an httpx exception means that no byte of the request left: the connection
    could not be made (refused, unreachable, a host name that does not resolve, a TLS
    handshake refused), it timed out while connecting or waiting for a pooled connection,
    or the proxy refused the tunnel. A timeout or a cut after connecting, a read error or a
    protocol error may come after the API received the request: uncertain."""
    import httpx

    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ProxyError)


_QUERY = re.compile(r"\?\S*")
_USERINFO = re.compile(r"//[^/@\s]*@")


def _reason(exc: Exception) -> str:
    """The transport's own words for a failure (``[Errno 111] Connection refused``), one line,
    without any URL query string, short; the exception's type when it has none."""
    text = " ".join(_USERINFO.sub("//…@", _QUERY.sub("", str(exc))).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _call_of(exc: Exception) -> str:
    """``GET host/path`` of the request that failed (no query: it may hold identifiers), or ""."""
    try:
        request = getattr(exc, "request", None)
    except RuntimeError:  # an httpx error raised without its request
        return ""
    if request is None:
        return ""
    return f"{request.method} {request.url.host}{request.url.path} "


def error_for_exception(exc: Exception, provider: str) -> ApiError:
    """Map an httpx transport exception to a :class:`NetworkError`, without the URL's query;
    :attr:`ApiError.uncertain` is false when :func:`nothing_sent`. Each call that got no answer
    is logged here, once, with its cause (TLS, proxy, network, timeout); a call that got an
    error answer is logged by the request log with its status."""
    import httpx

    if isinstance(exc, ApiError):
        return exc
    error: ApiError
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        error = NetworkError("timed out waiting for the API", provider=provider)
    elif isinstance(exc, httpx.TimeoutException):
        error = NetworkError("timed out connecting to the API", provider=provider)
    elif isinstance(exc, httpx.TransportError):
        described = describe_transport_error(exc)
        if described is not None:
            kind, sentence = described
            error = (CertificateError if kind == "certificate" else ProxyError)(sentence, provider=provider)
        else:
            error = NetworkError(f"network error ({type(exc).__name__})", provider=provider)
    else:
        error = ApiError(f"unexpected error ({type(exc).__name__})", provider=provider)
        log.warning("%sfailed: %s", _call_of(exc), error)
        return error
    if nothing_sent(exc):
        error.uncertain = False
    log.warning("%sfailed: %s (%s)", _call_of(exc), error, _reason(exc))
    return error
