"""Simulated OAuth2 token endpoint (server side), answering like Azure AD.

Accepts ``grant_type=client_credentials`` authenticated by a client secret or by a
certificate-signed JWT client assertion (GRTgaz §11.2.2 / §11.2.3). Times are
checked on the issuer's injected clock, so tests can move time. Errors are JSON
``{"error", "error_description"}`` with HTTP 400/401 and never echo a secret.

Error codes: ``invalid_request`` (400, malformed body or missing parameter),
``unsupported_grant_type`` (400), ``invalid_client`` (401, unknown client, bad
secret, bad signature, thumbprint, issuer or audience), ``invalid_grant`` (400,
assertion outside its validity window or replayed ``jti``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Awaitable, Callable, TypedDict
from urllib.parse import parse_qsl

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pupitre.providers.core import certs
from pupitre.providers.core.auth import JWT_BEARER, RSA_ALGORITHMS
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.sandbox import TokenIssuer

_REQUIRED_CLAIMS = ["aud", "iss", "sub", "nbf", "exp", "jti"]


class ClientRegistration(msgspec.Struct):
    """A client known to the simulated endpoint: a secret and/or a certificate."""

    client_id: str
    secret: str | None = None
    certificate_pem: bytes | None = None
    audience: str | None = None  # expected ``aud``; None: the token endpoint's own URL


class AssertionClaims(TypedDict):
    """The claims of a verified client assertion (RFC 7523 §3)."""

    iss: str
    sub: str
    aud: str
    jti: str
    nbf: float
    exp: float


class OAuthFailure(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _fail(status: int, error: str, description: str) -> OAuthFailure:
    return OAuthFailure(status, error, description)


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise _fail(
            400, "invalid_request", "AADSTS900144: the request body is not a valid x-www-form-urlencoded form"
        ) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise _fail(400, "invalid_request", f"AADSTS90015: parameter '{key}' is duplicated")
        form[key] = value
    return form


def _thumbprints(cert_pem: bytes) -> dict[str, set[str]]:
    """Accepted thumbprints: x5t as GRTgaz shows it (base64, padded) or base64url as
    Azure AD also accepts; x5t#S256 as RFC 7515 (base64url, unpadded)."""
    der = certs.load_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    sha1 = hashlib.sha1(der).digest()
    return {
        "x5t": {base64.b64encode(sha1).decode(), base64.urlsafe_b64encode(sha1).rstrip(b"=").decode()},
        "x5t#S256": {certs.x5t_s256(cert_pem)},
    }


def verify_assertion(
    assertion: str, registration: ClientRegistration, *, audience: str, now: float, leeway: float = 0
) -> AssertionClaims:
    """Verify a client assertion; its verified claims, or :class:`OAuthFailure`."""
    if registration.certificate_pem is None:
        raise _fail(401, "invalid_client", "AADSTS700027: no certificate is registered for this client")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError:
        raise _fail(401, "invalid_client", "AADSTS50027: the client assertion is not a well-formed JWT") from None
    if str(header.get("typ", "")).upper() != "JWT":
        raise _fail(401, "invalid_client", "AADSTS50027: the JWT header typ must be JWT")
    alg = header.get("alg")
    if alg not in RSA_ALGORITHMS:
        raise _fail(401, "invalid_client", "AADSTS5002723: unsupported client assertion algorithm")
    try:
        cert = certs.load_certificate(registration.certificate_pem)
        accepted = _thumbprints(registration.certificate_pem)
    except ConfigError:
        raise _fail(401, "invalid_client", "AADSTS700027: the registered certificate is unreadable") from None
    present = [name for name in ("x5t", "x5t#S256") if name in header]
    if not present:
        raise _fail(
            401, "invalid_client", "AADSTS700027: the client assertion has no x5t or x5t#S256 certificate thumbprint"
        )
    if any(header[name] not in accepted[name] for name in present):
        raise _fail(
            401, "invalid_client", "AADSTS700027: the certificate thumbprint does not match a registered certificate"
        )
    public_key = cert.public_key()
    if not isinstance(public_key, RSAPublicKey):
        raise _fail(401, "invalid_client", "AADSTS700027: the registered certificate does not hold an RSA key")
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=[alg],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "require": _REQUIRED_CLAIMS,
            },
        )
    except jwt.MissingRequiredClaimError as exc:
        raise _fail(401, "invalid_client", f"AADSTS50027: the client assertion has no '{exc.claim}' claim") from None
    except jwt.InvalidTokenError:
        raise _fail(401, "invalid_client", "AADSTS700027: the client assertion contains an invalid signature") from None
    client_id = registration.client_id
    if claims["iss"] != client_id or claims["sub"] != client_id:
        raise _fail(401, "invalid_client", "AADSTS700021: the client assertion iss and sub must both be the client id")
    if claims["aud"] != audience:
        raise _fail(
            401, "invalid_client", "AADSTS700212: the client assertion audience does not match the token endpoint"
        )
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise _fail(401, "invalid_client", "AADSTS50027: the client assertion jti is empty")
    try:
        nbf, exp = float(claims["nbf"]), float(claims["exp"])
    except (TypeError, ValueError):
        raise _fail(401, "invalid_client", "AADSTS50027: nbf and exp must be numeric timestamps") from None
    if now < nbf - leeway or now >= exp + leeway:
        raise _fail(400, "invalid_grant", "AADSTS700024: the client assertion is not within its valid time range")
    return AssertionClaims(iss=client_id, sub=client_id, aud=audience, jti=jti, nbf=nbf, exp=exp)


def _error(failure: OAuthFailure) -> JSONResponse:
    return JSONResponse(
        {"error": failure.error, "error_description": failure.description},
        status_code=failure.status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def token_route(path: str, issuer: TokenIssuer, clients: dict[str, ClientRegistration], *, leeway: float = 0) -> Route:
    """A POST route at ``path`` serving :func:`token_endpoint`."""
    return Route(path, token_endpoint(issuer, clients, leeway=leeway), methods=["POST"])


def token_endpoint(
    issuer: TokenIssuer, clients: dict[str, ClientRegistration], *, leeway: float = 0
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """An endpoint issuing ``issuer`` tokens to the registered ``clients``.

    ``clients`` is read at each call, so registrations may be added later.
    """
    seen_jti: dict[tuple[str, str], float] = {}

    def authenticate(form: dict[str, str], registration: ClientRegistration, url: str) -> None:
        if "client_secret" in form and "client_assertion" in form:
            raise _fail(400, "invalid_request", "AADSTS90014: send either client_secret or client_assertion, not both")
        if "client_secret" in form:
            expected = (registration.secret or "").encode()
            if registration.secret is None or not hmac.compare_digest(form["client_secret"].encode(), expected):
                raise _fail(401, "invalid_client", "AADSTS7000215: invalid client secret provided")
            return
        if "client_assertion" not in form:
            raise _fail(
                401,
                "invalid_client",
                "AADSTS7000218: the request body must contain 'client_assertion' or 'client_secret'",
            )
        if form.get("client_assertion_type") != JWT_BEARER:
            raise _fail(400, "invalid_request", f"AADSTS50027: client_assertion_type must be {JWT_BEARER}")
        now = issuer.clock.now().timestamp()
        claims = verify_assertion(
            form["client_assertion"], registration, audience=registration.audience or url, now=now, leeway=leeway
        )
        for key in [k for k, exp in seen_jti.items() if exp + leeway < now]:
            del seen_jti[key]
        key = (registration.client_id, claims["jti"])
        if key in seen_jti:
            raise _fail(400, "invalid_grant", "AADSTS7000274: the client assertion was already used (jti replayed)")
        seen_jti[key] = claims["exp"]

    async def token(request: Request) -> JSONResponse:
        try:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                raise _fail(400, "invalid_request", "AADSTS900144: the body must be application/x-www-form-urlencoded")
            form = _parse_form(await request.body())
            if not form.get("grant_type"):
                raise _fail(400, "invalid_request", "AADSTS900144: the request body must contain 'grant_type'")
            if form["grant_type"] != "client_credentials":
                raise _fail(400, "unsupported_grant_type", "AADSTS70003: only client_credentials is supported")
            client_id = form.get("client_id", "")
            registration = clients.get(client_id)
            if not client_id or registration is None:
                raise _fail(401, "invalid_client", "AADSTS700016: application not found")
            url = str(request.url.replace(query=""))
            authenticate(form, registration, url)
        except OAuthFailure as failure:
            return _error(failure)
        issued = issuer.issue(client_id)
        expires_in = max(0, round(issued.expires_at.timestamp() - issuer.clock.now().timestamp()))
        return JSONResponse(
            {"access_token": issued.value, "token_type": "Bearer", "expires_in": expires_in},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    return token
