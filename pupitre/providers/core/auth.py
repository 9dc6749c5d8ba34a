"""Auth strategies as ``httpx.Auth``: static bearer, OAuth2 client credentials, JWT assertion.

The OAuth strategies cache their access token, refresh it ``refresh_margin`` seconds
before expiry (on the injected :class:`Clock`), serialize fetches with an
``asyncio.Lock`` (one fetch when several feeds start at once), and on a 401 from
the resource fetch a fresh token and retry the request once. A second 401 is
returned to the caller, whose client maps it to :class:`AuthError`.

Nothing here logs or puts in an exception the secret, the client assertion or a
token. No Textual import.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import uuid
from typing import Any, AsyncGenerator, Generator, Literal

import httpx
import jwt
import msgspec

from pupitre.providers.core import certs
from pupitre.providers.core.clock import PARIS, Clock
from pupitre.providers.core.errors import (
    ApiError,
    AuthError,
    ConfigError,
    PayloadError,
    error_for_exception,
    error_for_response,
)
from pupitre.providers.core.http import decode_json
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.urls import check_base_url

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
DEFAULT_EXPIRES_IN = 3600.0
_DETAIL_MAX = 200
_NO_AUTH = httpx.Auth()  # explicit no-op: token requests never re-enter a strategy


class StaticBearer(httpx.Auth):
    """A static API token in a configurable header (EDF OA).

    ``scheme=None`` sends the raw token as the header value. A 401 is returned as
    is: there is nothing to refresh.
    """

    def __init__(self, token: str, header: str = "Authorization", scheme: str | None = "Bearer") -> None:
        self.header = header
        self.scheme = scheme
        self.replace(token)

    def replace(self, token: str) -> None:
        """Use a new token from now on (after a rotation, EDF OA RG_TOK_NEW_0010)."""
        if not token or not token.strip():
            raise ConfigError("the API token is empty: set it in the keyring, the environment or the credentials file")
        self._value = f"{self.scheme} {token.strip()}" if self.scheme else token.strip()

    def __repr__(self) -> str:
        return f"StaticBearer(header={self.header!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("pupitre auth strategies are async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers[self.header] = self._value
        yield request


class CachedToken(msgspec.Struct, frozen=True):
    """A token and its expiry / refresh instants as POSIX timestamps (DST-proof)."""

    value: str
    expires_at: float
    refresh_at: float


class OAuthStrategy(httpx.Auth):
    """Shared token cache, lock, refresh and 401-retry; subclasses build the token form."""

    requires_request_body = True  # the request may be sent twice (401 retry)

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        clock: Clock,
        *,
        provider: str,
        refresh_margin: float = 60,
    ) -> None:
        self.http = http
        self.token_url = check_base_url(token_url)
        self.client_id = client_id
        self.clock = clock
        self.provider = provider
        self.refresh_margin = max(0.0, float(refresh_margin))
        self.fetches = 0
        self._token: CachedToken | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r}, client_id={self.client_id!r})"

    # -- to override -------------------------------------------------------------------
    def token_form(self) -> dict[str, str]:
        """The form-encoded body of one token request."""
        raise NotImplementedError

    def secret_values(self, form: dict[str, str]) -> list[str]:
        """Values that must never appear in an error message."""
        return []

    # -- cache -------------------------------------------------------------------------
    @property
    def token_expires_at(self) -> dt.datetime | None:
        """Expiry of the cached token (for display), ``None`` when none is cached."""
        if self._token is None:
            return None
        return dt.datetime.fromtimestamp(self._token.expires_at, PARIS)

    def invalidate(self, value: str | None = None) -> None:
        """Drop the cached token (only if it is still ``value``, when given)."""
        if self._token is not None and (value is None or self._token.value == value):
            self._token = None

    def _fresh(self) -> CachedToken | None:
        token = self._token
        if token is not None and self.clock.now().timestamp() < token.refresh_at:
            return token
        return None

    async def access_token(self) -> str:
        """A valid access token, fetched at most once at a time."""
        token = self._fresh()
        if token is not None:
            return token.value
        async with self._lock:
            token = self._fresh()  # another task may have fetched it while we waited
            if token is None:
                token = await self._fetch()
                self._token = token
            return token.value

    # -- httpx.Auth --------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("pupitre auth strategies are async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        token = await self._token_before_sending()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        self.invalidate(token)
        token = await self._token_before_sending()
        request.headers["Authorization"] = f"Bearer {token}"
        yield request  # a second 401 goes back to the caller as is

    async def _token_before_sending(self) -> str:
        """The token for a request about to leave; when it cannot be had, that request never
        left (nor did the one answered 401): the error is not :attr:`~ApiError.uncertain`."""
        try:
            return await self.access_token()
        except ApiError as error:
            error.uncertain = False
            raise

    # -- token request -----------------------------------------------------------------
    async def _fetch(self) -> CachedToken:
        form = self.token_form()
        self.fetches += 1
        try:
            response = await self.http.post(
                self.token_url, data=form, auth=_NO_AUTH, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from None
        if response.status_code >= 400:
            raise self._token_error(response, form)
        if not response.is_success:
            raise PayloadError(
                "unexpected answer from the token endpoint", provider=self.provider, status=response.status_code
            )
        return self._parse(decode_json(response, self.provider))

    def _parse(self, data: Any) -> CachedToken:
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise PayloadError("the token endpoint answered without an access_token", provider=self.provider)
        token_type = data.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise PayloadError(
                "the token endpoint issued a non-Bearer token", provider=self.provider, detail=str(token_type)[:40]
            )
        expires_in = _expires_in(data.get("expires_in"), self.provider)
        now = self.clock.now().timestamp()
        margin = min(self.refresh_margin, expires_in / 2)  # short-lived tokens stay usable
        return CachedToken(data["access_token"], now + expires_in, now + expires_in - margin)

    def _token_error(self, response: httpx.Response, form: dict[str, str]) -> ApiError:
        detail = _truncate(_redact(_oauth_detail(response), self.secret_values(form)))
        if response.status_code in (400, 401):
            return AuthError(
                "token request refused — check the client id, credentials and scope",
                provider=self.provider,
                status=response.status_code,
                detail=detail,
            )
        return error_for_response(response, self.provider, detail)


class ClientCredentials(OAuthStrategy):
    """OAuth2 ``client_credentials`` grant with a client secret (form-encoded POST)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None,
        clock: Clock,
        *,
        provider: str,
        refresh_margin: float = 60,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(http, token_url, client_id, clock, provider=provider, refresh_margin=refresh_margin)
        if not client_secret:
            raise ConfigError(f"{provider}: the client secret is empty")
        self._secret = client_secret
        self.scope = scope
        self.extra = dict(extra or {})

    def token_form(self) -> dict[str, str]:
        form = dict(self.extra)
        form.update(client_id=self.client_id, client_secret=self._secret, grant_type="client_credentials")
        if self.scope:
            form["scope"] = self.scope
        return form

    def secret_values(self, form: dict[str, str]) -> list[str]:
        return [self._secret]


class JwtAssertionCredentials(OAuthStrategy):
    """``client_credentials`` with a certificate-signed JWT client assertion.

    GRTgaz §11.2.2 (the JWT: header ``typ``/``alg``/``x5t``; payload ``aud``, ``iss``,
    ``sub``, ``nbf``, ``exp``, ``jti``) and §11.2.3 (the form-encoded token request).
    A fresh assertion is signed for every token request.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        scope: str | None,
        clock: Clock,
        *,
        provider: str,
        private_key_pem: bytes,
        certificate_pem: bytes,
        passphrase: bytes | None = None,
        audience: str,
        algorithm: str = "RS256",
        thumbprint_header: Literal["x5t", "x5t#S256"] = "x5t",
        assertion_lifetime: float = 600,
        refresh_margin: float = 60,
    ) -> None:
        super().__init__(http, token_url, client_id, clock, provider=provider, refresh_margin=refresh_margin)
        if algorithm not in RSA_ALGORITHMS:
            raise ConfigError(
                f"{provider}: unsupported JWT algorithm {algorithm!r}; use one of {', '.join(RSA_ALGORITHMS)}"
            )
        if thumbprint_header not in ("x5t", "x5t#S256"):
            raise ConfigError(f"{provider}: thumbprint header must be 'x5t' or 'x5t#S256'")
        try:
            self._key = certs.load_private_key(private_key_pem, passphrase)
            cert = certs.load_certificate(certificate_pem)
        except ConfigError as exc:
            raise ConfigError(f"{provider}: {exc}") from None
        if not certs.key_matches_certificate(self._key, cert):
            raise ConfigError(f"{provider}: the private key does not match the certificate")
        thumbprint = certs.x5t_sha1(certificate_pem) if thumbprint_header == "x5t" else certs.x5t_s256(certificate_pem)
        self.scope = scope
        self.audience = audience
        self.algorithm = algorithm
        self.assertion_lifetime = float(assertion_lifetime)
        self._headers = {"typ": "JWT", "alg": algorithm, thumbprint_header: thumbprint}

    def assertion(self) -> str:
        """A newly signed client assertion (GRTgaz §11.2.2)."""
        now = math.floor(self.clock.now().timestamp())
        claims = {
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "nbf": now,
            "exp": now + math.ceil(self.assertion_lifetime),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=self._headers)

    def token_form(self) -> dict[str, str]:
        """The §11.2.3 body: client_id, grant_type, scope, client_assertion_type, client_assertion."""
        form = {"client_id": self.client_id, "grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        form.update(client_assertion_type=JWT_BEARER, client_assertion=self.assertion())
        return form

    def secret_values(self, form: dict[str, str]) -> list[str]:
        assertion = form.get("client_assertion", "")
        return [assertion, *assertion.split(".")] if assertion else []


def _expires_in(value: Any, provider: str) -> float:
    """``expires_in`` in seconds (Azure v1 sends a string); 3600 when missing."""
    if value is None:
        return DEFAULT_EXPIRES_IN
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise PayloadError("the token endpoint sent an unreadable expires_in", provider=provider) from None
    if isinstance(value, bool) or not math.isfinite(seconds):
        raise PayloadError("the token endpoint sent an unreadable expires_in", provider=provider)
    return max(0.0, seconds)


def _oauth_detail(response: httpx.Response) -> str:
    """``error: error_description`` (first line) from an OAuth error body."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    error = str(data.get("error") or "")
    description = str(data.get("error_description") or "").strip().splitlines()
    if error and description:
        return f"{error}: {description[0]}"
    return error or (description[0] if description else "")


def _redact(text: str, secrets: list[str]) -> str:
    """Remove any secret a server may have echoed back (before truncating)."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _truncate(text: str) -> str:
    return text[:_DETAIL_MAX] + ("…" if len(text) > _DETAIL_MAX else "")


class QuotaPacedAuth(httpx.Auth):
    """Wraps an auth strategy so that every request it yields to the wire first
    takes a slot of ``quota`` — after the token is attached, including a 401 re-send.

    ``inner`` may be ``None`` (no auth). Token requests made by ``inner`` go through
    its own client call, not through this flow, and take no slot.
    """

    def __init__(self, inner: httpx.Auth | None, quota: QuotaLimiter) -> None:
        self.inner = inner
        self.quota = quota
        self.requires_request_body = bool(getattr(inner, "requires_request_body", False))
        self.requires_response_body = bool(getattr(inner, "requires_response_body", False))

    def __repr__(self) -> str:
        return f"QuotaPacedAuth({self.inner!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("pupitre auth strategies are async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.inner is None:
            stamp = await self.quota.acquire()
            try:
                yield request
            finally:
                self.quota.answered(stamp)
            return
        flow = self.inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                stamp = await self.quota.acquire()
                try:
                    response = yield outgoing
                finally:
                    self.quota.answered(stamp)  # the slot counts from the answer (see QuotaLimiter)
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return
        finally:
            await flow.aclose()
