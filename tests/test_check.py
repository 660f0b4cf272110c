"""The URL checker against real loopback servers (aiohttp.web on 127.0.0.1, TLS via trustme).

Nothing here mocks aiohttp or reaches the internet: names that must not resolve live under
``.invalid`` (short-circuited by the resolver), real-looking names reach loopback through
``host_overrides``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import socket
import ssl
import struct
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eurodex.model import Outcome
from eurodex.verify.check import Checker, CheckSettings, check_many
from eurodex.verify.classify import inflate_prefix, is_challenge
from eurodex.verify.politeness import parse_retry_after

LOOPBACK = ["127.0.0.0/8"]
KIB = 1024
REAL_NAME = "cvec-ctrl.etudiant.gouv.fr"
Handler = Callable[[web.Request], object]


@dataclass
class Server:
    """A running loopback server and what it received."""

    port: int
    seen: list[tuple[float, str, str]] = field(default_factory=list)
    host_headers: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def methods(self) -> list[str]:
        return [method for _, method, _ in self.seen]


@asynccontextmanager
async def serve(
    routes: dict[str, Handler], ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    """Run an aiohttp.web app on 127.0.0.1:<free port>; every method goes to the handler."""
    server = Server(port=0)

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.seen.append((time.monotonic(), request.method, request.path))
        server.host_headers.append(request.headers.get("Host", ""))
        server.user_agents.append(request.headers.get("User-Agent", ""))
        return await handler(request)

    app = web.Application(middlewares=[record])
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()


def settings(**overrides: object) -> CheckSettings:
    """Settings for loopback tests: 127/8 allowed, a budget no test runs into."""
    values: dict[str, object] = {"allowed_networks": LOOPBACK, "per_host_per_minute": 10_000}
    values.update(overrides)
    return CheckSettings(**values)  # type: ignore[arg-type]


def status(code: int, *, headers: dict[str, str] | None = None, body: str = "x") -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=code, text=body, headers=headers)

    return handler


def head_then_get(head_code: int, get_code: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        code = head_code if request.method == "HEAD" else get_code
        return web.Response(status=code, text="hello")

    return handler


def redirect(location: str, code: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=code, headers={"Location": location})

    return handler


async def check(url: str, **overrides: object):
    async with Checker(settings(**overrides)) as checker:
        return await checker.check(url)


# -- status codes ----------------------------------------------------------------------


async def test_200_is_up_after_head_only() -> None:
    async with serve({"/": status(200)}) as srv:
        result = await check(srv.url())
    assert (result.outcome, result.http_status, result.method) == (Outcome.UP, 200, "HEAD")
    assert result.reason is None and result.error is None
    assert result.final_url == srv.url()
    assert result.latency_ms is not None and result.latency_ms >= 0
    assert result.started_at.tzinfo is dt.UTC
    assert result.tls_expires_at is None
    assert srv.methods == ["HEAD"]
    assert "eurodex/0.1 (+https://" in srv.user_agents[0]


@pytest.mark.parametrize("head_code", [405, 403, 404, 400, 501])
async def test_head_refused_then_get_200_is_up(head_code: int) -> None:
    async with serve({"/": head_then_get(head_code)}) as srv:
        result = await check(srv.url())
    assert (result.outcome, result.http_status, result.method) == (Outcome.UP, 200, "GET")
    assert result.bytes_read == len("hello")
    assert srv.methods == ["HEAD", "GET"]


async def test_head_without_useful_header_is_repeated_with_get() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":
            response = web.StreamResponse(status=200)
            response.headers.popall("Content-Type", None)
            response.force_close()
            await response.prepare(request)
            await response.write_eof()
            return response
        return web.Response(text="body")

    async with serve({"/": handler}) as srv:
        result = await check(srv.url())
    assert srv.methods == ["HEAD", "GET"]
    assert (result.outcome, result.method) == (Outcome.UP, "GET")


async def test_401_is_up_auth() -> None:
    async with serve({"/": status(401, headers={"WWW-Authenticate": "Bearer"})}) as srv:
        result = await check(srv.url())
    assert (result.outcome, result.http_status, result.reason) == (Outcome.UP_AUTH, 401, None)


async def test_403_is_up_auth_after_get_retry() -> None:
    async with serve({"/": status(403)}) as srv:
        result = await check(srv.url())
    assert (result.outcome, result.http_status, result.method) == (Outcome.UP_AUTH, 403, "GET")
    assert srv.methods == ["HEAD", "GET"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [(404, "http_404"), (410, "http_410"), (500, "http_5xx"), (503, "http_5xx"),
     (418, "http_4xx")],
)
async def test_error_statuses_are_down(code: int, reason: str) -> None:
    async with serve({"/": status(code)}) as srv:
        result = await check(srv.url())
    assert (result.outcome, result.http_status, result.reason) == (Outcome.DOWN, code, reason)
    assert result.error and len(result.error) <= 300


async def test_429_is_inconclusive_and_host_is_left_alone_until_retry_after() -> None:
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.Response(status=429, text="slow down", headers={"Retry-After": "2"})
        return web.Response(text="ok")

    async with serve({"/{tail:.*}": handler}) as srv, Checker(settings()) as checker:
        first = await checker.check(srv.url("/a"))
        second = await checker.check(srv.url("/b"))
    assert (first.outcome, first.reason, first.http_status) == (
        Outcome.INCONCLUSIVE, "http_429", 429
    )
    assert first.retry_after_s == 2
    assert second.outcome is Outcome.UP
    (t_429, _, _), (t_next, _, _) = srv.seen[0], srv.seen[1]
    assert t_next - t_429 >= 2.0, "a request reached the host before its Retry-After"


async def test_retry_after_beyond_max_wait_is_inconclusive_without_sending() -> None:
    handler = status(429, headers={"Retry-After": "3600"})
    async with serve({"/": handler}) as srv, Checker(settings()) as checker:
        first = await checker.check(srv.url())
        second = await checker.check(srv.url())
    assert first.reason == "http_429" and first.retry_after_s == 3600
    assert (second.outcome, second.reason) == (Outcome.INCONCLUSIVE, "backoff")
    assert second.retry_after_s is not None and second.retry_after_s > 3500
    assert len(srv.seen) == 1


def test_retry_after_parsing() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_challenge_pages_are_inconclusive() -> None:
    cf = status(503, headers={"cf-mitigated": "challenge"}, body="")
    page = "<html><head><title>Just a moment...</title></head></html>"
    body = status(403, headers={"Content-Type": "text/html", "Server": "cloudflare"}, body=page)
    async with serve({"/cf": cf, "/page": body}) as srv:
        by_header = await check(srv.url("/cf"))
        by_body = await check(srv.url("/page"))
    assert (by_header.outcome, by_header.reason) == (Outcome.INCONCLUSIVE, "challenge")
    assert (by_body.outcome, by_body.reason, by_body.method) == (
        Outcome.INCONCLUSIVE, "challenge", "GET"
    )
    assert not is_challenge(403, {}, b"<title>Forbidden</title>")


# -- redirects -------------------------------------------------------------------------


async def test_chain_of_three_redirects_is_up() -> None:
    routes = {
        "/r1": redirect("/r2", 301),
        "/r2": redirect("/r3", 307),
        "/r3": redirect("/final", 308),
        "/final": status(200),
    }
    async with serve(routes) as srv:
        result = await check(srv.url("/r1"))
    assert (result.outcome, result.http_status) == (Outcome.UP, 200)
    assert result.final_url == srv.url("/final")
    assert result.url == srv.url("/r1")
    assert [path for _, _, path in srv.seen] == ["/r1", "/r2", "/r3", "/final"]


async def test_redirect_loop_is_down() -> None:
    async with serve({"/a": redirect("/b"), "/b": redirect("/a")}) as srv:
        result = await check(srv.url("/a"))
    assert (result.outcome, result.reason) == (Outcome.DOWN, "redirect_loop")
    assert len(srv.seen) == 2


async def test_too_many_redirects_is_down() -> None:
    async def handler(request: web.Request) -> web.Response:
        step = int(request.match_info["n"])
        return web.Response(status=302, headers={"Location": f"/hop/{step + 1}"})

    async with serve({"/hop/{n}": handler}) as srv:
        result = await check(srv.url("/hop/0"))
    assert (result.outcome, result.reason) == (Outcome.DOWN, "too_many_redirects")
    assert len(srv.seen) == 11  # the original request and 10 followed redirects


async def test_relative_location_is_resolved_against_the_url() -> None:
    routes = {"/api/v1/start": redirect("../v2/health"), "/api/v2/health": status(200)}
    async with serve(routes) as srv:
        result = await check(srv.url("/api/v1/start"))
    assert result.outcome is Outcome.UP
    assert result.final_url == srv.url("/api/v2/health")


# -- network failures ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_refused_connection_is_down() -> None:
    result = await check(f"http://127.0.0.1:{free_port()}/")
    assert (result.outcome, result.reason) == (Outcome.DOWN, "refused")
    assert result.error


async def test_unknown_host_fails_fast_without_dns() -> None:
    started = time.monotonic()
    result = await check("https://no-such-api.eurodex.invalid/health")
    assert (result.outcome, result.reason) == (Outcome.DOWN, "dns")
    assert time.monotonic() - started < 1.0


async def test_read_timeout_is_down() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async with serve({"/": slow}) as srv:
        started = time.monotonic()
        result = await check(srv.url(), total_timeout=0.5)
    assert (result.outcome, result.reason) == (Outcome.DOWN, "timeout")
    assert time.monotonic() - started < 2.0


async def test_silent_tls_server_is_a_connect_timeout() -> None:
    """A peer that accepts TCP but never completes the TLS handshake."""

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await check(f"https://127.0.0.1:{port}/", connect_timeout=0.3)
    finally:
        server.close()
    assert (result.outcome, result.reason) == (Outcome.DOWN, "connect_timeout")


async def test_invalid_urls_are_down() -> None:
    for url in ("ftp://example.org/file", "not a url", "http:///nohost"):
        result = await check(url)
        assert (result.outcome, result.reason) == (Outcome.DOWN, "invalid_url"), url


# -- bodies ----------------------------------------------------------------------------


def get_only(stream: Callable[[web.Request], object]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":
            return web.Response(status=405)
        return await stream(request)  # type: ignore[misc]

    return handler


async def endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    chunk = b"a" * (8 * KIB)
    try:
        while True:
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass
    return response


def _zeros_block() -> bytes:
    """Raw deflate of 1 MiB of zeros ending in a full flush, so copies can be concatenated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(bytes(1024 * KIB)) + compressor.flush(zlib.Z_FULL_FLUSH)


def _crc_of_zeros(mebibytes: int) -> int:
    crc, zeros = 0, bytes(1024 * KIB)
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    return crc


async def gzip_bomb(request: web.Request) -> web.StreamResponse:
    """Streams a valid gzip body that inflates to 1 GiB of zeros (about 1 MB on the wire).

    Built on the fly from one self-contained deflate block repeated 1024 times; the gzip
    trailer is only computed if a client ever reads that far.
    """
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    block, batch = _zeros_block(), 64
    try:
        await response.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        for _ in range(1024 // batch):
            if request.transport is None or request.transport.is_closing():
                return response  # the client hung up: stop
            await response.write(block * batch)
        crc = await asyncio.to_thread(_crc_of_zeros, 1024)
        await response.write(b"\x03\x00" + struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF))
    except (ConnectionError, RuntimeError):
        pass
    return response


def test_gzip_bomb_generator_is_a_real_bomb() -> None:
    """One block inflates to exactly 1 MiB: 1024 of them are 1 GiB."""
    block = _zeros_block()
    assert len(block) < 2 * KIB
    assert len(zlib.decompressobj(-zlib.MAX_WBITS).decompress(block * 4)) == 4 * 1024 * KIB


async def test_endless_body_stops_at_the_cap() -> None:
    async with serve({"/": get_only(endless)}) as srv:
        started = time.monotonic()
        result = await check(srv.url())
    assert (result.outcome, result.method, result.http_status) == (Outcome.UP, "GET", 200)
    assert 0 < result.bytes_read <= 64 * KIB + 512
    assert time.monotonic() - started < 3.0


async def test_gzip_bomb_is_never_expanded() -> None:
    async with serve({"/": get_only(gzip_bomb)}) as srv:
        tracemalloc.start()
        started = time.monotonic()
        try:
            result = await check(srv.url())
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert elapsed < 3.0
    assert (result.outcome, result.method) == (Outcome.UP, "GET")
    assert 0 < result.bytes_read <= 64 * KIB
    assert peak < 32 * 1024 * KIB, f"peak memory {peak} bytes"


def test_challenge_sniffing_inflates_only_a_bounded_prefix() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * KIB))  # 64 MiB of zeros, ~64 KiB compressed
    assert len(inflate_prefix(bomb, "gzip", 16 * KIB)) == 16 * KIB
    page = gzip.compress(b"<title>Just a moment...</title>")
    assert is_challenge(503, {}, inflate_prefix(page, "gzip", 16 * KIB))


# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def self_signed_context(tmp: Path, name: str) -> ssl.SSLContext:
    """A leaf that signs itself (no CA at all), written with cryptography."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "self.pem", tmp / "self.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_path), str(key_path))
    return context


async def check_tls(context: ssl.SSLContext, ca_file: str | None) -> object:
    async with serve({"/": status(200)}, ssl_context=context) as srv:
        url = f"https://{REAL_NAME}:{srv.port}/"
        return await check(url, host_overrides={REAL_NAME: "127.0.0.1"}, extra_ca_file=ca_file)


async def test_valid_certificate_via_host_override_is_up_with_expiry(
    ca: trustme.CA, ca_file: str
) -> None:
    not_after = dt.datetime(2031, 6, 30, 12, 0, 0, tzinfo=dt.UTC)
    cert = ca.issue_cert(REAL_NAME, not_after=not_after)
    async with serve({"/": status(200)}, ssl_context=server_context(cert)) as srv:
        with_port = await check(
            f"https://{REAL_NAME}:{srv.port}/",
            host_overrides={REAL_NAME: "127.0.0.1"},
            extra_ca_file=ca_file,
        )
        port_override = await check(
            f"https://{REAL_NAME}/",
            host_overrides={f"{REAL_NAME}:443": f"127.0.0.1:{srv.port}"},
            extra_ca_file=ca_file,
        )
    for result in (with_port, port_override):
        assert (result.outcome, result.http_status) == (Outcome.UP, 200), result
        assert result.tls_expires_at == not_after
    assert port_override.final_url == f"https://{REAL_NAME}/"
    assert srv.methods == ["HEAD", "HEAD"]
    assert srv.host_headers == [f"{REAL_NAME}:{srv.port}", REAL_NAME]


async def test_tls_expiry_is_taken_from_the_final_get(ca: trustme.CA, ca_file: str) -> None:
    not_after = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    cert = ca.issue_cert(REAL_NAME, not_after=not_after)
    async with serve({"/": head_then_get(405)}, ssl_context=server_context(cert)) as srv:
        result = await check(
            f"https://{REAL_NAME}:{srv.port}/",
            host_overrides={REAL_NAME: "127.0.0.1"},
            extra_ca_file=ca_file,
        )
    assert (result.outcome, result.method) == (Outcome.UP, "GET")
    assert result.tls_expires_at == not_after


async def test_untrusted_ca_is_tls_certificate(ca: trustme.CA) -> None:
    result = await check_tls(server_context(ca.issue_cert(REAL_NAME)), ca_file=None)
    assert (result.outcome, result.reason) == (Outcome.DOWN, "tls_certificate")


async def test_self_signed_certificate_is_tls_certificate(tmp_path: Path) -> None:
    result = await check_tls(self_signed_context(tmp_path, REAL_NAME), ca_file=None)
    assert (result.outcome, result.reason) == (Outcome.DOWN, "tls_certificate")
    assert "self" in (result.error or "").lower()


async def test_expired_certificate_is_tls_expired(ca: trustme.CA, ca_file: str) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = ca.issue_cert(
        REAL_NAME, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
    )
    result = await check_tls(server_context(cert), ca_file)
    assert (result.outcome, result.reason) == (Outcome.DOWN, "tls_expired")


async def test_hostname_mismatch_is_tls_hostname(ca: trustme.CA, ca_file: str) -> None:
    result = await check_tls(server_context(ca.issue_cert("other.example.org")), ca_file)
    assert (result.outcome, result.reason) == (Outcome.DOWN, "tls_hostname")


# -- address guard ---------------------------------------------------------------------


@pytest.fixture
async def connect_spy(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every socket connect the event loop performs (and lets it happen)."""
    loop = asyncio.get_running_loop()
    attempts: list[object] = []
    real = loop.sock_connect

    async def spy(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", spy)
    return attempts


async def test_loopback_is_refused_unless_allowed(connect_spy: list[object]) -> None:
    async with serve({"/": status(200)}) as srv:
        literal = await check(srv.url(), allowed_networks=[])
        by_name = await check(f"http://localhost:{srv.port}/", allowed_networks=[])
        assert srv.seen == [] and connect_spy == []
        allowed = await check(srv.url())
    for result in (literal, by_name):
        assert (result.outcome, result.reason) == (Outcome.DOWN, "blocked_address"), result
        assert "loopback" in (result.error or "")
    assert allowed.outcome is Outcome.UP and len(connect_spy) == 1  # the spy does see connects


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:80/",
     "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://224.0.0.1/"],
)
async def test_internal_addresses_are_refused_without_connecting(
    url: str, connect_spy: list[object]
) -> None:
    started = time.monotonic()
    result = await check(url, allowed_networks=[])
    assert (result.outcome, result.reason) == (Outcome.DOWN, "blocked_address"), result
    assert connect_spy == []
    assert time.monotonic() - started < 1.0


async def test_legacy_numeric_ipv4_is_refused_without_connecting(
    connect_spy: list[object],
) -> None:
    """aiohttp itself rejects 2130706433 / 127.1 (they would map onto 127.0.0.1)."""
    for url in ("http://2130706433/", "http://127.1/"):
        result = await check(url, allowed_networks=[])
        assert result.outcome is Outcome.DOWN
        assert result.reason in ("invalid_url", "blocked_address"), result
    assert connect_spy == []


async def test_redirect_to_loopback_is_refused_on_the_hop(connect_spy: list[object]) -> None:
    async with serve({"/": status(200)}) as internal:
        target = f"http://127.0.0.1:{internal.port}/admin"
        by_name = f"http://localhost:{internal.port}/admin"
        routes = {"/to-ip": redirect(target), "/to-name": redirect(by_name)}
        async with serve(routes) as public:
            overrides = {"api.example.eu": f"127.0.0.1:{public.port}"}
            to_ip = await check(
                "http://api.example.eu/to-ip", host_overrides=overrides, allowed_networks=[]
            )
            to_name = await check(
                "http://api.example.eu/to-name", host_overrides=overrides, allowed_networks=[]
            )
    assert (to_ip.outcome, to_ip.reason, to_ip.final_url) == (
        Outcome.DOWN, "blocked_address", target
    )
    assert (to_name.outcome, to_name.reason) == (Outcome.DOWN, "blocked_address")
    assert len(public.seen) == 2 and internal.seen == []
    assert all(port == public.port for _, port in connect_spy)  # type: ignore[misc]


# -- politeness and rounds -------------------------------------------------------------


async def test_at_most_two_requests_per_host_at_once() -> None:
    state = {"now": 0, "peak": 0}

    async def slow(request: web.Request) -> web.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.1)
        state["now"] -= 1
        return web.Response(text="ok")

    async with serve({"/{tail:.*}": slow}) as srv, Checker(settings()) as checker:
        urls = [srv.url(f"/{i}") for i in range(6)]
        results = await check_many(checker, urls, concurrency=6)
    assert [r.url for r in results] == urls
    assert all(r.outcome is Outcome.UP for r in results)
    assert state["peak"] == 2


async def test_per_host_budget_per_minute_holds_requests_back() -> None:
    budget = settings(per_host_per_minute=2)
    async with serve({"/{tail:.*}": status(200)}) as srv, Checker(budget) as checker:
        await checker.check(srv.url("/1"))
        await checker.check(srv.url("/2"))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(checker.check(srv.url("/3")), 0.5)
    assert len(srv.seen) == 2
