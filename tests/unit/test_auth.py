"""Auth strategies over the real httpx stack against the simulated token endpoint (GRTgaz §11.2)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pupitre.providers.core.auth import JWT_BEARER, ClientCredentials, JwtAssertionCredentials, StaticBearer
from pupitre.providers.core.certs import generate_self_signed
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import AuthError, ConfigError, NetworkError, PayloadError, ServerError
from pupitre.providers.core.http import make_http_client
from pupitre.providers.core.sandbox import SandboxTransport, TokenIssuer
from pupitre.providers.core.sandbox_oauth import ClientRegistration, token_route
from tests.unit.pem import pem_block

CLIENT_ID = "ae804739-1de9-4f6b-b516-79fac087bfb1"
SECRET = "s3cr3t-Value-that-must-never-leak"
SCOPE = "api://RIO-DSG-MAMBA/.default"
TOKEN_PATH = "/offre.grtgaz.com/oauth2/v2.0/token"
TOKEN_URL = "http://login.sandbox.invalid" + TOKEN_PATH
AUDIENCE = "https://login.microsoftonline.com/cd011c38-975e-4b2a-8b1d-4eb00765d457/oauth2/v2.0/token"
RESOURCE = "http://api.sandbox.invalid/sfm/v1/indicators"
START = dt.datetime(2025, 1, 15, 10, 0, tzinfo=PARIS)


@pytest.fixture(scope="session")
def pair() -> tuple[bytes, bytes]:
    """The one 2048-bit key of the session: (private_key_pem, certificate_pem)."""
    return generate_self_signed("pupitre-test-client", key_size=2048)


@dataclass
class Env:
    clock: ManualClock
    issuer: TokenIssuer
    clients: dict[str, ClientRegistration]
    http: httpx.AsyncClient
    forms: list[dict[str, str]] = field(default_factory=list)
    token_headers: list[httpx.Headers] = field(default_factory=list)
    resource_calls: int = 0
    force_401: int = 0

    @property
    def fetches(self) -> int:
        return len(self.forms)


def build_app(env: Env) -> Starlette:
    route = token_route(TOKEN_PATH, env.issuer, env.clients)

    async def token(request: Request) -> Response:
        env.forms.append(dict(parse_qsl((await request.body()).decode())))
        env.token_headers.append(httpx.Headers(request.headers.raw))
        await asyncio.sleep(0.01)  # let concurrent callers pile up behind the lock
        return await route.endpoint(request)

    async def resource(request: Request) -> Response:
        env.resource_calls += 1
        if env.force_401 > 0:
            env.force_401 -= 1
            return JSONResponse({"message": "token expired"}, status_code=401)
        if env.issuer.check(request.headers.get("authorization")) is None:
            return JSONResponse({"message": "unauthorized"}, status_code=401)
        return JSONResponse({"ok": True})

    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.1)
        return await resource(request)

    return Starlette(
        routes=[
            Route(TOKEN_PATH, token, methods=["POST"]),
            Route("/sfm/v1/indicators", resource),
            Route("/sfm/v1/slow", slow),
        ]
    )


@pytest.fixture
async def env(pair: tuple[bytes, bytes]) -> Any:
    clock = ManualClock(START)
    issuer = TokenIssuer(clock, dt.timedelta(hours=1))
    clients = {CLIENT_ID: ClientRegistration(CLIENT_ID, secret=SECRET, certificate_pem=pair[1], audience=AUDIENCE)}
    env = Env(clock, issuer, clients, http=None)  # type: ignore[arg-type]  # set just below, once the app exists
    env.http = make_http_client(transport=SandboxTransport(build_app(env)))
    yield env
    await env.http.aclose()


def jwt_auth(env: Env, pair: tuple[bytes, bytes], **kwargs: Any) -> JwtAssertionCredentials:
    return JwtAssertionCredentials(
        env.http,
        TOKEN_URL,
        CLIENT_ID,
        SCOPE,
        env.clock,
        provider="GRTgaz",
        private_key_pem=pair[0],
        certificate_pem=pair[1],
        audience=AUDIENCE,
        **kwargs,
    )


def secret_auth(env: Env, secret: str = SECRET, **kwargs: Any) -> ClientCredentials:
    return ClientCredentials(env.http, TOKEN_URL, CLIENT_ID, secret, SCOPE, env.clock, provider="EDF OA", **kwargs)


def der(cert_pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert_pem.decode())  # independent of cryptography


def decode(assertion: str, cert_pem: bytes, alg: str) -> dict[str, Any]:
    public = x509.load_pem_x509_certificate(cert_pem).public_key()
    return jwt.decode(
        assertion,
        public,
        algorithms=[alg],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_nbf": False},
    )


# -- JWT assertion (GRTgaz §11.2.2) -------------------------------------------------------


async def test_jwt_assertion_header_and_claims(env: Env, pair: tuple[bytes, bytes]) -> None:
    auth = jwt_auth(env, pair)
    response = await env.http.get(RESOURCE, auth=auth)
    assert response.status_code == 200
    assertion = env.forms[0]["client_assertion"]

    header = jwt.get_unverified_header(assertion)
    assert header["typ"] == "JWT" and header["alg"] == "RS256"
    expected_x5t = base64.b64encode(hashlib.sha1(der(pair[1])).digest()).decode()
    assert header["x5t"] == expected_x5t and expected_x5t.endswith("=")  # 20 bytes: padded
    assert "x5t#S256" not in header

    claims = decode(assertion, pair[1], "RS256")
    now = int(START.timestamp())
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["nbf"] == now and claims["exp"] == now + 600
    assert uuid.UUID(claims["jti"])
    assert set(claims) == {"aud", "iss", "sub", "nbf", "exp", "jti"}

    auth.invalidate()
    assert (await env.http.get(RESOURCE, auth=auth)).status_code == 200
    assert env.fetches == 2
    assert decode(env.forms[1]["client_assertion"], pair[1], "RS256")["jti"] != claims["jti"]


async def test_jwt_ps256_with_x5t_s256(env: Env, pair: tuple[bytes, bytes]) -> None:
    auth = jwt_auth(env, pair, algorithm="PS256", thumbprint_header="x5t#S256")
    assert (await env.http.get(RESOURCE, auth=auth)).status_code == 200
    assertion = env.forms[0]["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256" and header["typ"] == "JWT"
    expected = base64.urlsafe_b64encode(hashlib.sha256(der(pair[1])).digest()).rstrip(b"=")
    assert header["x5t#S256"] == expected.decode() and "x5t" not in header
    assert decode(assertion, pair[1], "PS256")["iss"] == CLIENT_ID


async def test_token_request_form_11_2_3(env: Env, pair: tuple[bytes, bytes]) -> None:
    await env.http.get(RESOURCE, auth=jwt_auth(env, pair))
    form = env.forms[0]
    assert set(form) == {"client_id", "grant_type", "scope", "client_assertion_type", "client_assertion"}
    assert form["client_id"] == CLIENT_ID
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == SCOPE
    assert form["client_assertion_type"] == JWT_BEARER
    assert form["client_assertion"].count(".") == 2
    headers = env.token_headers[0]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in headers  # the token request never goes through an auth flow


async def test_token_request_skips_client_default_auth(env: Env, pair: tuple[bytes, bytes]) -> None:
    """Even when a strategy is the client's default auth, the token POST is sent without it."""
    auth = jwt_auth(env, pair)
    client = httpx.AsyncClient(transport=SandboxTransport(build_app(env)), auth=auth)
    auth.http = client
    try:
        assert (await client.get(RESOURCE)).status_code == 200
    finally:
        await client.aclose()
    assert env.fetches == 1 and "authorization" not in env.token_headers[0]


# -- cache, concurrency, 401 retry --------------------------------------------------------


async def test_token_cached_then_refreshed_before_expiry(env: Env, pair: tuple[bytes, bytes]) -> None:
    auth = jwt_auth(env, pair)
    for _ in range(2):
        assert (await env.http.get(RESOURCE, auth=auth)).status_code == 200
    assert env.fetches == 1
    assert auth.token_expires_at == START + dt.timedelta(hours=1)

    env.clock.advance(seconds=3600 - 60 - 1)  # still before expiry minus margin
    await env.http.get(RESOURCE, auth=auth)
    assert env.fetches == 1
    env.clock.advance(seconds=2)  # past expiry minus the 60 s margin
    assert (await env.http.get(RESOURCE, auth=auth)).status_code == 200
    assert env.fetches == 2


async def test_refresh_margin_configurable(env: Env) -> None:
    auth = secret_auth(env, refresh_margin=600)
    await env.http.get(RESOURCE, auth=auth)
    env.clock.advance(seconds=3000)
    await env.http.get(RESOURCE, auth=auth)
    assert env.fetches == 2


async def test_concurrent_requests_fetch_once(env: Env, pair: tuple[bytes, bytes]) -> None:
    auth = jwt_auth(env, pair)
    responses = await asyncio.gather(*(env.http.get(RESOURCE, auth=auth) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert env.fetches == 1


async def test_401_once_refetches_and_succeeds(env: Env, pair: tuple[bytes, bytes]) -> None:
    auth = jwt_auth(env, pair)
    await env.http.get(RESOURCE, auth=auth)
    for value in list(env.issuer.tokens):
        env.issuer.revoke(value)  # revoked server side
    env.resource_calls = 0
    response = await env.http.get(RESOURCE, auth=auth)
    assert response.status_code == 200
    assert env.fetches == 2 and env.resource_calls == 2


async def test_401_twice_is_returned(env: Env) -> None:
    auth = secret_auth(env)
    env.force_401 = 2
    response = await env.http.get(RESOURCE, auth=auth)
    assert response.status_code == 401
    assert env.fetches == 2 and env.resource_calls == 2


async def test_concurrent_401s_refetch_once(env: Env) -> None:
    auth = secret_auth(env)
    await env.http.get(RESOURCE, auth=auth)
    env.issuer.tokens.clear()
    responses = await asyncio.gather(*(env.http.get(RESOURCE, auth=auth) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert env.fetches == 2


async def test_late_401_keeps_the_newer_token(env: Env) -> None:
    """A 401 for an old token arriving after a refresh must not throw the new token away."""
    auth = secret_auth(env)
    await env.http.get(RESOURCE, auth=auth)
    env.issuer.tokens.clear()
    slow = env.http.get(RESOURCE.replace("indicators", "slow"), auth=auth)
    fast = env.http.get(RESOURCE, auth=auth)
    responses = await asyncio.gather(slow, fast)
    assert [r.status_code for r in responses] == [200, 200]
    assert env.fetches == 2


async def test_post_body_is_resent_on_retry(env: Env) -> None:
    seen: list[bytes] = []

    async def echo(request: Request) -> Response:
        seen.append(await request.body())
        if len(seen) == 1:
            return Response(status_code=401)
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route(TOKEN_PATH, token_route(TOKEN_PATH, env.issuer, env.clients).endpoint, methods=["POST"]),
            Route("/echo", echo, methods=["POST"]),
        ]
    )
    async with make_http_client(transport=SandboxTransport(app)) as client:
        auth = ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, None, env.clock, provider="x")
        response = await client.post("http://api.sandbox.invalid/echo", json={"a": 1}, auth=auth)
    assert response.status_code == 200 and seen == [b'{"a":1}', b'{"a":1}']


# -- client credentials -------------------------------------------------------------------


async def test_client_credentials_form_and_default_expiry(env: Env) -> None:
    auth = secret_auth(env, extra={"resource": "api://x", "grant_type": "ignored"})
    assert (await env.http.get(RESOURCE, auth=auth)).status_code == 200
    assert env.forms[0] == {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": SCOPE,
        "grant_type": "client_credentials",
        "resource": "api://x",
    }


async def test_wrong_secret_is_auth_error_without_secret(env: Env) -> None:
    wrong = "Wrong-Secret-Value-42"
    with pytest.raises(AuthError) as info:
        await env.http.get(RESOURCE, auth=secret_auth(env, wrong))
    text = str(info.value)
    assert info.value.status == 401 and "invalid_client" in text
    assert wrong not in text and SECRET not in text and wrong not in repr(info.value.args)


async def test_echoed_secret_and_assertion_are_redacted(pair: tuple[bytes, bytes]) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        leaked = form.get("client_secret") or form["client_assertion"]
        return httpx.Response(400, json={"error": "invalid_request", "error_description": f"bad value {leaked} here"})

    clock = ManualClock(START)
    async with make_http_client(transport=httpx.MockTransport(echo)) as client:
        with pytest.raises(AuthError) as info:
            await ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, SCOPE, clock, provider="p").access_token()
        assert SECRET not in str(info.value) and "invalid_request" in str(info.value)
        auth = JwtAssertionCredentials(
            client,
            TOKEN_URL,
            CLIENT_ID,
            SCOPE,
            clock,
            provider="p",
            private_key_pem=pair[0],
            certificate_pem=pair[1],
            audience=AUDIENCE,
        )
        with pytest.raises(AuthError) as info:
            await auth.access_token()
        assert "eyJ" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    "answer, error",
    [
        (httpx.Response(503, text="down"), ServerError),
        (httpx.Response(200, content=b'{"access_token": "abc"'), PayloadError),
        (httpx.Response(200, json={"token_type": "Bearer"}), PayloadError),
        (httpx.Response(200, json={"access_token": "a", "expires_in": "soon"}), PayloadError),
    ],
)
async def test_token_endpoint_failures_are_typed(answer: httpx.Response, error: type) -> None:
    async with make_http_client(transport=httpx.MockTransport(lambda r: answer)) as client:
        auth = ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, SCOPE, ManualClock(START), provider="p")
        with pytest.raises(error) as info:
            await client.get(RESOURCE, auth=auth)
    assert SECRET not in str(info.value)
    assert not info.value.uncertain  # without a token, the request itself never left


async def test_a_token_timeout_means_the_request_never_left() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("token endpoint silent", request=request)

    async with make_http_client(transport=httpx.MockTransport(slow)) as client:
        auth = ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, SCOPE, ManualClock(START), provider="p")
        with pytest.raises(NetworkError) as info:
            await client.post(RESOURCE, auth=auth, json={"declare": 1})
    assert not info.value.uncertain


async def test_token_endpoint_network_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with make_http_client(transport=httpx.MockTransport(refuse)) as client:
        auth = ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, SCOPE, ManualClock(START), provider="p")
        with pytest.raises(NetworkError):
            await client.get(RESOURCE, auth=auth)


async def test_missing_expires_in_defaults_to_3600() -> None:
    answer = httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer"})
    async with make_http_client(transport=httpx.MockTransport(lambda r: answer)) as client:
        auth = ClientCredentials(client, TOKEN_URL, CLIENT_ID, SECRET, SCOPE, ManualClock(START), provider="p")
        assert await auth.access_token() == "tok"
    assert auth.token_expires_at == START + dt.timedelta(seconds=3600)


def test_sync_flow_is_not_supported(env: Env) -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        with pytest.raises(NotImplementedError):
            client.get(RESOURCE, auth=secret_auth(env))


# -- configuration errors -----------------------------------------------------------------


def _encrypted(key_pem: bytes, passphrase: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_pem, None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(passphrase)
    )


def _key_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if not line.startswith("-----")]


@pytest.mark.parametrize("given", [b"hunter2-nope", None])
async def test_bad_passphrase_is_config_error(env: Env, pair: tuple[bytes, bytes], given: bytes | None) -> None:
    encrypted = _encrypted(pair[0], b"correct horse battery")
    assert jwt_auth(env, (encrypted, pair[1]), passphrase=b"correct horse battery")
    with pytest.raises(ConfigError) as info:
        jwt_auth(env, (encrypted, pair[1]), passphrase=given)
    text = str(info.value)
    assert "GRTgaz" in text and "passphrase" in text
    assert "PRIVATE KEY" not in text and "correct horse" not in text
    assert given is None or (given.decode() not in text and "wrong passphrase" in text)
    assert not any(line in text for line in _key_lines(encrypted) + _key_lines(pair[0]))
    assert info.value.__cause__ is None and info.value.__suppress_context__


async def test_unreadable_key_and_mismatch_are_config_errors(env: Env, pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ConfigError, match="not a readable PEM key"):
        jwt_auth(env, (pem_block("PRIVATE KEY", b"AAAA"), pair[1]))
    other_cert = generate_self_signed("other", key_size=1024)[1]
    with pytest.raises(ConfigError, match="does not match"):
        jwt_auth(env, (pair[0], other_cert))
    with pytest.raises(ConfigError, match="algorithm"):
        jwt_auth(env, pair, algorithm="HS256")


def test_plain_http_token_url_refused(pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ConfigError, match="https"):
        ClientCredentials(
            httpx.AsyncClient(),
            "http://login.example.com/token",
            CLIENT_ID,
            SECRET,
            None,
            ManualClock(START),
            provider="p",
        )


# -- static bearer ------------------------------------------------------------------------


async def test_static_bearer_header_and_scheme() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401 if len(seen) == 3 else 200)

    async with make_http_client(transport=httpx.MockTransport(handler)) as client:
        await client.get(RESOURCE, auth=StaticBearer("tok-1"))
        await client.get(RESOURCE, auth=StaticBearer("tok-2", header="X-API-Key", scheme=None))
        response = await client.get(RESOURCE, auth=StaticBearer("tok-3", scheme="Token"))
    assert seen[0].headers["authorization"] == "Bearer tok-1"
    assert seen[1].headers["x-api-key"] == "tok-2" and "authorization" not in seen[1].headers
    assert seen[2].headers["authorization"] == "Token tok-3"
    assert response.status_code == 401 and len(seen) == 3  # no retry: nothing to refresh
    assert "tok" not in repr(StaticBearer("tok-4"))
    with pytest.raises(ConfigError):
        StaticBearer("  ")


# -- the simulated endpoint refuses bad assertions ----------------------------------------


async def _post(env: Env, form: dict[str, str]) -> httpx.Response:
    return await env.http.post(TOKEN_URL, data=form)


def _form(auth: JwtAssertionCredentials) -> dict[str, str]:
    return auth.token_form()


async def test_sandbox_accepts_valid_assertion_once(env: Env, pair: tuple[bytes, bytes]) -> None:
    form = _form(jwt_auth(env, pair))
    first = await _post(env, form)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert env.issuer.check(f"Bearer {body['access_token']}") is not None
    replay = await _post(env, form)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


async def test_sandbox_checks_time_on_issuer_clock(env: Env, pair: tuple[bytes, bytes]) -> None:
    form = _form(jwt_auth(env, pair))
    env.clock.advance(seconds=600)  # exp reached on the shared clock
    expired = await _post(env, form)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    early_clock = ManualClock(START + dt.timedelta(minutes=30))
    early = JwtAssertionCredentials(
        env.http,
        TOKEN_URL,
        CLIENT_ID,
        SCOPE,
        early_clock,
        provider="p",
        private_key_pem=pair[0],
        certificate_pem=pair[1],
        audience=AUDIENCE,
    )
    not_yet = await _post(env, early.token_form())
    assert not_yet.status_code == 400 and "valid time range" in not_yet.json()["error_description"]


@pytest.mark.parametrize(
    "change, error",
    [
        ({"audience": "https://other/token"}, "invalid_client"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:other"}, "invalid_request"),
    ],
)
async def test_sandbox_refusals(env: Env, pair: tuple[bytes, bytes], change: dict[str, str], error: str) -> None:
    auth = jwt_auth(env, pair)
    if "audience" in change:
        auth.audience = change["audience"]
    form = _form(auth)
    form.update({k: v for k, v in change.items() if k != "audience"})
    answer = await _post(env, form)
    assert answer.status_code in (400, 401) and answer.json()["error"] == error
    assert form["client_assertion"] not in answer.text


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_sandbox_refuses_wrong_certificate_and_tampering(env: Env, pair: tuple[bytes, bytes]) -> None:
    form = _form(jwt_auth(env, pair))
    head, payload, signature = form["client_assertion"].split(".")
    forged = dict(form, client_assertion=f"{head}.{payload}.{signature[:-4]}AAAA")
    answer = await _post(env, forged)
    assert answer.status_code == 401 and "signature" in answer.json()["error_description"]

    other_key, other_cert = generate_self_signed("intruder", key_size=1024)
    intruder = JwtAssertionCredentials(
        env.http,
        TOKEN_URL,
        CLIENT_ID,
        SCOPE,
        env.clock,
        provider="p",
        private_key_pem=other_key,
        certificate_pem=other_cert,
        audience=AUDIENCE,
    )
    answer = await _post(env, intruder.token_form())
    assert answer.status_code == 401 and "thumbprint" in answer.json()["error_description"]

    no_x5t = jwt.encode(
        {
            "aud": AUDIENCE,
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "jti": "j",
            "nbf": int(START.timestamp()),
            "exp": int(START.timestamp()) + 60,
        },
        serialization.load_pem_private_key(pair[0], None),
        algorithm="RS256",
    )
    answer = await _post(env, dict(form, client_assertion=no_x5t))
    assert answer.status_code == 401 and "x5t" in answer.json()["error_description"]


async def test_sandbox_refuses_a_registered_certificate_without_rsa_key(env: Env, pair: tuple[bytes, bytes]) -> None:
    """An RS/PS assertion checked against an EC certificate is an ``invalid_client``, not a crash."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec-client")])
    now = dt.datetime.now(dt.timezone.utc)
    ec_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ec_key, hashes.SHA256())
    )
    ec_pem = ec_cert.public_bytes(serialization.Encoding.PEM)
    env.clients[CLIENT_ID] = ClientRegistration(CLIENT_ID, certificate_pem=ec_pem, audience=AUDIENCE)
    thumbprint = base64.b64encode(hashlib.sha1(der(ec_pem)).digest()).decode()
    assertion = jwt.encode(
        {
            "aud": AUDIENCE,
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "jti": "j-ec",
            "nbf": int(START.timestamp()),
            "exp": int(START.timestamp()) + 60,
        },
        serialization.load_pem_private_key(pair[0], None),
        algorithm="RS256",
        headers={"x5t": thumbprint, "typ": "JWT"},
    )
    answer = await _post(env, dict(_form(jwt_auth(env, pair)), client_assertion=assertion))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert "RSA" in answer.json()["error_description"]
