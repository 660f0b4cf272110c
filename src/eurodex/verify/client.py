"""The one aiohttp session a Checker uses: resolver, host overrides, TLS trust, peer capture.

Three things aiohttp does not give us out of the box live here:

* a resolver that applies ``host_overrides`` (curl's ``--resolve``) and the address guard,
  so the guard sees what the name really resolved to, on every hop, before any connection;
* a connector that re-checks the peer address of every connection it hands out (a second
  line of defence, e.g. against an address that reached the pool some other way) and
  records the peer certificate, because a HEAD response releases its connection before
  the caller could ask the transport for it;
* a TLS context trusting the system store plus an optional extra CA bundle.

The per-request record travels in a ContextVar: each check runs in its own task, the
connector runs inside that task's ``session.request`` call, so it can fill in the probe of
the request that asked for the connection without any private aiohttp attribute.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from eurodex.verify.netguard import AddressGuard, BlockedAddressError, parse_ip
from eurodex.verify.settings import CheckSettings

log = logging.getLogger("eurodex.verify")

_NUMERIC_FLAGS = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


@dataclass
class ConnectionProbe:
    """What the connector saw for the connection one request used."""

    peer_address: str | None = None
    peercert: dict[str, Any] | None = None


CURRENT_PROBE: contextvars.ContextVar[ConnectionProbe | None] = contextvars.ContextVar(
    "eurodex_verify_probe", default=None
)


@functools.lru_cache(maxsize=65_536)
def normalise_host(host: str) -> str:
    """Lower-case, IDNA-encoded, without trailing dot: the form aiohttp passes to resolvers."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _split_host_port(text: str) -> tuple[str, int | None]:
    """Split "host", "host:port", "[v6]:port" or a bare IPv6 literal."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, None


class HostOverrides:
    """Parsed ``host_overrides``: {"host[:port]": "ip[:port]"} like curl's ``--resolve``."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self._map: dict[tuple[str, int | None], tuple[str, int | None]] = {}
        for key, value in mapping.items():
            host, port = _split_host_port(key)
            ip, ip_port = _split_host_port(value)
            if parse_ip(ip) is None:
                raise ValueError(f"host override target must be an IP address: {value!r}")
            self._map[(normalise_host(host), port)] = (ip, ip_port)

    def lookup(self, host: str, port: int) -> tuple[str, int] | None:
        """The (ip, port) to connect to for ``host:port``, or None when not overridden."""
        host = normalise_host(host)
        found = self._map.get((host, port)) or self._map.get((host, None))
        if found is None:
            return None
        ip, ip_port = found
        return ip, ip_port if ip_port is not None else port


class GuardedResolver(AbstractResolver):
    """Applies host overrides, short-circuits reserved names, and filters refused addresses.

    Names under ``.invalid`` (RFC 6761: must never resolve) fail at once without a DNS
    query. Addresses the guard refuses are dropped; if none is left the lookup raises
    BlockedAddressError, which aiohttp wraps and the checker reports as blocked_address.
    """

    def __init__(self, guard: AddressGuard, overrides: HostOverrides) -> None:
        self._guard = guard
        self._overrides = overrides
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        override = self._overrides.lookup(host, port)
        if override is not None:
            ip, ip_port = override
            ip_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            return [
                ResolveResult(
                    hostname=host, host=ip, port=ip_port, family=ip_family, proto=0,
                    flags=_NUMERIC_FLAGS,
                )
            ]
        name = normalise_host(host)
        if name == "invalid" or name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: reserved .invalid name")
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._guard.refusal(r["host"]) is None]
        if not allowed and results:
            first = results[0]["host"]
            raise BlockedAddressError(host, first, self._guard.refusal(first) or "refused")
        if len(allowed) < len(results):
            log.warning("dropped refused addresses of %s", host)
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that re-checks each connection's peer and records its certificate."""

    def __init__(
        self, *, guard: AddressGuard, overrides: HostOverrides, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._guard = guard
        self._overrides = overrides

    async def connect(
        self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout
    ) -> Any:
        conn = await super().connect(req, traces, timeout)
        transport = conn.transport
        if transport is None:
            return conn
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else None
        host = req.url.raw_host or ""
        port = req.url.port or 0
        if address is not None and self._overrides.lookup(host, port) is None:
            category = self._guard.refusal(address)
            if category is not None:
                conn.close()
                raise BlockedAddressError(host, address, category)
        probe = CURRENT_PROBE.get()
        if probe is not None:
            probe.peer_address = address
            probe.peercert = transport.get_extra_info("peercert")
        return conn


def build_ssl_context(extra_ca_file: str | None) -> ssl.SSLContext:
    """The system trust store, plus ``extra_ca_file`` when given; verification always on."""
    context = ssl.create_default_context()
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


def build_session(
    settings: CheckSettings, guard: AddressGuard, overrides: HostOverrides
) -> aiohttp.ClientSession:
    """The single session of a Checker. Must be called with a running event loop.

    No cookies (each check stands alone), no proxy from the environment (a proxy would
    bypass the address guard), no automatic decompression (the checker reads a bounded
    number of raw bytes and inflates at most a bounded prefix itself).
    """
    connector = GuardedConnector(
        guard=guard,
        overrides=overrides,
        resolver=GuardedResolver(guard, overrides),
        ssl=build_ssl_context(settings.extra_ca_file),
        limit=settings.max_connections,
        limit_per_host=settings.per_host_connections,
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
        },
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
    )
