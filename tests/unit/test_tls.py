"""TLS and proxies against real local servers on 127.0.0.1: a test CA made here, certificates
that are good, untrusted, expired or for another host; a CONNECT proxy answering 407 / 403;
a SOCKS5 proxy through which a request succeeds. Each test is bounded in time."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import truststore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pupitre.providers.core import tls
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.errors import CertificateError, ConfigError, NetworkError, ProxyError
from pupitre.providers.core.http import NoNetworkTransport, make_http_client
from pupitre.providers.core.retry import RetryPolicy

LIMIT = 10.0  # seconds: no test here may hang
PROXY_SECRET = "s3cr3t-Pr0xy"
ENV = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "no_proxy",
)


# -- a test CA and its certificates --------------------------------------------------------
def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Pki:
    directory: Path
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate

    @property
    def ca_file(self) -> Path:
        return self.directory / "company-ca.pem"

    def server_context(self, name: str, *, ip: bool = True, expired: bool = False) -> ssl.SSLContext:
        """A server context with a certificate this CA signed for ``name`` (an IP or a DNS name)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        begins, ends = (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (now, now)
        if not expired:
            begins, ends = now - dt.timedelta(days=1), now + dt.timedelta(days=5)
        general: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name)) if ip else x509.DNSName(name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(begins)
            .not_valid_after(ends)
            .add_extension(x509.SubjectAlternativeName([general]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        stem = self.directory / f"{name}-{'expired' if expired else 'valid'}"
        cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context


def make_pki(directory: Path, common_name: str = "pupitre test company CA") -> Pki:
    """A new CA (EC P-256, 30 days) written to ``directory/company-ca.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    usage = x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=True,
        crl_sign=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pki = Pki(directory, key, ca)
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA or proxy variable of the machine running the tests leaks in."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


# -- tiny servers ----------------------------------------------------------------------------
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler, context: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1]


async def _http_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}')
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        pass  # the client refused our certificate: that is the test
    finally:
        writer.close()


@pytest.fixture
async def https_server(pki: Pki) -> AsyncIterator[Callable[..., Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(name: str = "127.0.0.1", *, ip: bool = True, expired: bool = False) -> int:
        server, port = await _serve(_http_ok, pki.server_context(name, ip=ip, expired=expired))
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.close()


def connect_proxy(status: int, reason: str) -> Handler:
    """A CONNECT proxy that answers every tunnel request with ``status``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"CONNECT 127.0.0.1:")
            extra = b'Proxy-Authenticate: Basic realm="corp"\r\n' if status == 407 else b""
            writer.write(f"HTTP/1.1 {status} {reason}\r\n".encode() + extra + b"Content-Length: 0\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    return handle


@dataclass
class Socks5:
    """A SOCKS5 proxy (no authentication, CONNECT only) that pipes to the target."""

    tunnels: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            version, count = await reader.readexactly(2)
            await reader.readexactly(count)
            assert version == 5
            writer.write(b"\x05\x00")  # no authentication
            _version, command, _reserved, kind = await reader.readexactly(4)
            assert command == 1  # CONNECT
            if kind == 1:
                host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
            elif kind == 3:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            else:
                raise AssertionError(f"address type {kind}")
            port = int.from_bytes(await reader.readexactly(2), "big")
            target_reader, target_writer = await asyncio.open_connection(host, port)
            self.tunnels += 1
            writer.write(b"\x05\x00\x00\x01" + bytes(4) + bytes(2))
            await writer.drain()

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                try:
                    while data := await source.read(65536):
                        sink.write(data)
                        await sink.drain()
                finally:
                    sink.close()

            await asyncio.gather(pipe(reader, target_writer), pipe(target_reader, writer), return_exceptions=True)
        finally:
            writer.close()


class Probe(ApiClient):
    provider = "Test API"


async def _get(url: str) -> httpx.Response:
    """One GET through the shared client factory and the provider error mapping, bounded."""
    async with make_http_client(timeout=httpx.Timeout(5.0)) as http:
        client = Probe(http, url, None, retry=RetryPolicy(attempts=1))
        return await asyncio.wait_for(client.send("GET", "/status"), LIMIT)


# -- the trust store -------------------------------------------------------------------------
def test_the_context_is_the_os_trust_store() -> None:
    assert isinstance(tls.ssl_context({}), truststore.SSLContext)


async def test_untrusted_certificate_is_named_with_the_host_and_logged(
    https_server: Callable[..., Awaitable[int]], caplog: pytest.LogCaptureFixture
) -> None:
    port = await https_server()
    with caplog.at_level(logging.WARNING, logger="pupitre.http"), pytest.raises(CertificateError) as info:
        await _get(f"https://127.0.0.1:{port}")
    message = str(info.value)
    assert message.startswith(f"Test API: the certificate of 127.0.0.1:{port} is not trusted")
    assert "SSL_CERT_FILE" in message and "ConnectError" not in message
    assert isinstance(info.value, NetworkError) and info.value.retryable  # an outbox action is kept
    assert message in caplog.text


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
async def test_ca_file_variables_are_honoured(
    variable: str, pki: Pki, https_server: Callable[..., Awaitable[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = await https_server()
    monkeypatch.setenv(variable, str(pki.ca_file))
    response = await _get(f"https://127.0.0.1:{port}")
    assert response.json() == {"ok": True}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to hash the CA directory")
async def test_ca_directory_variable_is_honoured(
    pki: Pki, https_server: Callable[..., Awaitable[int]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(pki.ca_file)], capture_output=True, text=True, check=True
    ).stdout.strip()
    shutil.copy(pki.ca_file, tmp_path / f"{subject_hash}.0")
    port = await https_server()
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    response = await _get(f"https://127.0.0.1:{port}")
    assert response.status_code == 200


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="the Linux system bundle path")
async def test_the_company_ca_is_added_to_the_system_store_not_instead(
    pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OpenSSL reads SSL_CERT_FILE *instead of* the system bundle; pupitre adds it to it."""
    public = make_pki(tmp_path, "pupitre test public CA")  # stands for the distribution's bundle
    monkeypatch.setattr(tls, "SYSTEM_CA_FILES", (str(public.ca_file),))
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    servers = [await _serve(_http_ok, ca.server_context("127.0.0.1")) for ca in (public, pki)]
    try:
        for _server, port in servers:
            assert (await _get(f"https://127.0.0.1:{port}")).status_code == 200
    finally:
        for server, _port in servers:
            server.close()


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"])
def test_a_ca_variable_naming_nothing_is_a_config_error(variable: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"{variable}=.*no such CA"):
        tls.ssl_context({variable: str(tmp_path / "nope")})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    if variable != "SSL_CERT_DIR":
        with pytest.raises(ConfigError, match=f"{variable}=.*not a readable PEM CA file"):
            tls.ssl_context({variable: str(junk)})


async def test_expired_certificate(
    pki: Pki, https_server: Callable[..., Awaitable[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = await https_server(expired=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    with pytest.raises(CertificateError, match=rf"the certificate of 127\.0\.0\.1:{port} has expired$"):
        await _get(f"https://127.0.0.1:{port}")


async def test_certificate_for_another_host(
    pki: Pki, https_server: Callable[..., Awaitable[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = await https_server("api.other.example", ip=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    with pytest.raises(CertificateError, match=rf"127\.0\.0\.1:{port} is for another host name"):
        await _get(f"https://127.0.0.1:{port}")


# -- proxies -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (407, "Proxy Authentication Required", "asks for authentication (HTTP 407) to reach 127.0.0.1:"),
        (403, "Forbidden", "refused to connect to 127.0.0.1:"),
    ],
)
async def test_proxy_refusals_are_told_apart(
    status: int,
    reason: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, proxy_port = await _serve(connect_proxy(status, reason))
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://operator:{PROXY_SECRET}@127.0.0.1:{proxy_port}")
        with caplog.at_level(logging.WARNING, logger="pupitre.http"), pytest.raises(ProxyError) as info:
            await _get("https://127.0.0.1:9")  # the proxy answers before any connection to it
    finally:
        proxy.close()
    message = str(info.value)
    assert f"the proxy 127.0.0.1:{proxy_port} {expected}" in message
    assert PROXY_SECRET not in message and PROXY_SECRET not in caplog.text
    assert message in caplog.text


async def test_a_request_goes_through_a_socks5_proxy(
    pki: Pki, https_server: Callable[..., Awaitable[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = await https_server()
    socks = Socks5()
    proxy, proxy_port = await _serve(socks.handle)
    try:
        monkeypatch.setenv("ALL_PROXY", f"socks5://127.0.0.1:{proxy_port}")
        monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
        response = await _get(f"https://127.0.0.1:{port}")
    finally:
        proxy.close()
    assert response.json() == {"ok": True}
    assert socks.tunnels == 1


async def test_a_dead_socks_proxy_is_a_proxy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, proxy_port = await _serve(lambda reader, writer: asyncio.sleep(0))
    proxy.close()
    await proxy.wait_closed()  # nothing listens there any more
    monkeypatch.setenv("ALL_PROXY", f"socks5://127.0.0.1:{proxy_port}")
    with pytest.raises(NetworkError):
        await _get("https://127.0.0.1:9")


def test_offline_client_reads_no_proxy_and_builds_no_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")  # would be a ConfigError if read
    client = make_http_client(transport=NoNetworkTransport())
    assert client.trust_env is False


def test_an_unusable_proxy_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "gopher://127.0.0.1:1")
    with pytest.raises(ConfigError, match="proxy variable"):
        make_http_client()


def test_config_check_names_the_environment_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pupitre import cli_config

    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path))
    assert cli_config.main(["config", "check"]) == 0
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "corp-ca.pem"))
    monkeypatch.setenv("https_proxy", "proxy.corp:3128")
    assert cli_config.main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert f"REQUESTS_CA_BUNDLE={tmp_path / 'corp-ca.pem'}: no such CA file" in err
    assert "https_proxy: a proxy URL must start with http://" in err
    assert tls.environment_problems({"https_proxy": "socks5://127.0.0.1:1080"}) == []
