"""One check of one URL (methodology section 4), and rounds of many checks.

A Checker owns one aiohttp session for all its checks, so connections, DNS answers and the
per-host politeness state (connection slots, budget per minute, 429 back-off) are shared
by every check it runs. ``check`` never raises for anything the network does: every
failure becomes a CheckResult with a machine-readable reason (see ``classify``).

Timing: ``connect_timeout`` bounds TCP connect plus TLS handshake of each request;
``total_timeout`` bounds the network time of the whole check (all redirect hops, the
HEAD-then-GET retry and the body read). Time spent queueing for politeness (a host's
connection slot, its budget per minute, its Retry-After) is not charged to it, since it
says nothing about the server. ``latency_ms`` is the time from sending the final request to
receiving its response headers (connection set-up included when it was not reused).

Other stored fields: ``method`` is the method of the decisive (last) request; ``bytes_read``
counts the raw body bytes (as sent, possibly compressed) of that request, never more than
``max_body_bytes``; ``tls_expires_at`` is the notAfter of the certificate presented on the
connection that request used (None for plain HTTP and when the handshake failed);
``final_url`` is the URL of that request; ``retry_after_s`` is set for 429 and back-off.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from eurodex.model import CheckResult, Outcome
from eurodex.verify.classify import (
    HEAD_RETRY_STATUSES,
    REDIRECT_STATUSES,
    describe_exception,
    has_useful_header,
    inflate_prefix,
    is_challenge,
    outcome_for_status,
    reason_for_exception,
    snippet,
)
from eurodex.verify.client import (
    CURRENT_PROBE,
    ConnectionProbe,
    HostOverrides,
    build_session,
    normalise_host,
)
from eurodex.verify.netguard import AddressGuard, BlockedAddressError, parse_ip
from eurodex.verify.politeness import (
    DEFAULT_RETRY_AFTER_S,
    HostBackoff,
    Politeness,
    parse_retry_after,
)
from eurodex.verify.settings import CheckSettings

__all__ = ["CheckSettings", "Checker", "Fetched", "check_many", "iter_checks"]

log = logging.getLogger("eurodex.verify")

_SNIFF_BYTES = 16 * 1024  # decoded body prefix inspected for challenge pages
_READ_CHUNK = 16 * 1024


class _Stop(Exception):
    """Ends a check early with a finished result."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.reason)
        self.result = result


@dataclass
class _Hop:
    """One request and its answer, as far as the decision needs it."""

    method: str
    url: URL
    status: int
    headers: Any
    latency_ms: int
    bytes_read: int = 0
    body_prefix: bytes = b""
    body_error: str | None = None
    peercert: dict[str, Any] | None = None
    body: bytes = b""
    truncated: bool = False


@dataclass
class _Run:
    """Mutable state of one check."""

    url: str
    started_at: datetime
    network_s: float = 0.0
    redirects: int = 0
    seen: set[tuple[str, str]] = field(default_factory=set)
    # Set by fetch(): keep the body (up to this many bytes) instead of sniffing a prefix.
    keep_body: int | None = None
    last_hop: _Hop | None = None


@dataclass(frozen=True)
class Fetched:
    """A page fetched through the checker: the check it amounts to, and the body it read.

    ``body`` is decoded from gzip/deflate and never longer than the cap asked for;
    ``truncated`` says the page was longer than that.
    """

    result: CheckResult
    body: bytes
    content_type: str
    truncated: bool

    @property
    def ok(self) -> bool:
        return self.result.outcome is Outcome.UP

    def text(self) -> str:
        charset = "utf-8"
        if "charset=" in self.content_type:
            charset = self.content_type.split("charset=", 1)[1].split(";")[0].strip() or charset
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def _cert_not_after(peercert: dict[str, Any] | None) -> datetime | None:
    """The certificate's notAfter as an aware UTC datetime, from ``getpeercert()``."""
    if not peercert or "notAfter" not in peercert:
        return None
    try:
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(peercert["notAfter"]), UTC)
    except ValueError:
        return None


def _host_key(url: URL) -> str:
    return f"{normalise_host(url.raw_host or '')}:{url.port}"


def _parse_url(text: str) -> URL:
    """Parse a URL the checker may fetch; ValueError for anything else."""
    url = URL(text.strip())
    if url.scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme {url.scheme!r}")
    if not url.raw_host:
        raise ValueError("URL has no host")
    return url.with_fragment(None)


class Checker:
    """Checks URLs with one shared session. Use as ``async with Checker(settings) as c``."""

    def __init__(self, settings: CheckSettings | None = None) -> None:
        self.settings = settings or CheckSettings()
        self._guard = AddressGuard(
            self.settings.allowed_networks, enabled=self.settings.guard_addresses
        )
        self._overrides = HostOverrides(self.settings.host_overrides)
        self._politeness = Politeness(
            self.settings.per_host_connections,
            self.settings.per_host_per_minute,
            self.settings.max_backoff_wait_s,
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Checker:
        self._session = build_session(self.settings, self._guard, self._overrides)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check(self, url: str) -> CheckResult:
        """Check one URL. Never raises for a network condition."""
        if self._session is None:
            raise RuntimeError("Checker must be used as an async context manager")
        run = _Run(url=url, started_at=datetime.now(UTC))
        try:
            result = await self._check(run)
        except _Stop as stop:
            result = stop.result
        log.debug(
            "checked %s: %s %s %s", url, result.outcome, result.http_status, result.reason
        )
        return result

    async def fetch(self, url: str, *, max_bytes: int = 2 * 1024 * 1024) -> Fetched:
        """GET one page and keep its body (at most ``max_bytes`` decoded bytes).

        The same guarded, polite client as checks: the address guard on every hop, the
        host's connection slots, budget and back-off. Used for the pages proofs read, for
        specs re-captured by a full verification and for submitted pages.
        """
        if self._session is None:
            raise RuntimeError("Checker must be used as an async context manager")
        run = _Run(url=url, started_at=datetime.now(UTC), keep_body=max_bytes)
        try:
            result = await self._check(run, first_method="GET")
        except _Stop as stop:
            result = stop.result
        hop = run.last_hop
        if hop is None or result.outcome is Outcome.DOWN:
            return Fetched(result, b"", "", False)
        return Fetched(result, hop.body, hop.headers.get("Content-Type", ""), hop.truncated)

    # -- the decision loop ------------------------------------------------------------

    async def _check(self, run: _Run, first_method: str = "HEAD") -> CheckResult:
        try:
            current = _parse_url(run.url)
        except (ValueError, TypeError) as exc:
            return self._failed(run, first_method, None, "invalid_url", exc)
        method = first_method
        run.seen.add((method, str(current)))
        while True:
            hop = await self._send(run, method, current)
            location = hop.headers.get("Location") if hop.status in REDIRECT_STATUSES else None
            if location:
                current = self._follow(run, hop, location)
                continue
            if method == "HEAD" and self._needs_get(hop):
                method = "GET"
                run.seen.add((method, str(current)))
                continue
            run.last_hop = hop
            return self._decide(run, hop)

    @staticmethod
    def _needs_get(hop: _Hop) -> bool:
        """HEAD answers the methodology repeats with GET (never a 429 or a challenge)."""
        if hop.status == 429 or is_challenge(hop.status, hop.headers):
            return False
        return hop.status in HEAD_RETRY_STATUSES or not has_useful_header(hop.headers)

    def _follow(self, run: _Run, hop: _Hop, location: str) -> URL:
        """The next URL of a redirect, or a _Stop for a loop, an overflow or a bad target."""
        try:
            target = _parse_url(str(hop.url.join(URL(location))))
        except (ValueError, TypeError) as exc:
            raise _Stop(self._failed(run, hop.method, hop, "invalid_url", exc)) from None
        if run.redirects >= self.settings.max_redirects:
            message = f"more than {self.settings.max_redirects} redirects"
            raise _Stop(self._failed(run, hop.method, hop, "too_many_redirects", message))
        key = (hop.method, str(target))
        if key in run.seen:
            message = f"redirect loop back to {target}"
            raise _Stop(self._failed(run, hop.method, hop, "redirect_loop", message))
        run.seen.add(key)
        run.redirects += 1
        return target

    def _decide(self, run: _Run, hop: _Hop) -> CheckResult:
        retry_after = None
        if is_challenge(hop.status, hop.headers, hop.body_prefix):
            outcome, reason = Outcome.INCONCLUSIVE, "challenge"
        else:
            outcome, reason = outcome_for_status(hop.status)
        if hop.status == 429:
            retry_after = self._retry_after(hop)
        error = None
        if outcome is Outcome.DOWN or outcome is Outcome.INCONCLUSIVE:
            error = snippet(f"HTTP {hop.status} from {hop.url}")
        if hop.body_error:
            error = snippet(f"{error + '; ' if error else ''}body: {hop.body_error}")
        return CheckResult(
            url=run.url,
            started_at=run.started_at,
            method=hop.method,
            outcome=outcome,
            http_status=hop.status,
            latency_ms=hop.latency_ms,
            reason=reason,
            error=error,
            bytes_read=hop.bytes_read,
            tls_expires_at=_cert_not_after(hop.peercert),
            final_url=str(hop.url),
            retry_after_s=retry_after,
        )

    def _failed(
        self, run: _Run, method: str, hop: _Hop | None, reason: str, error: object,
        *, url: URL | None = None, outcome: Outcome = Outcome.DOWN,
        retry_after_s: float | None = None,
    ) -> CheckResult:
        final = url or (hop.url if hop else None)
        return CheckResult(
            url=run.url,
            started_at=run.started_at,
            method=method,
            outcome=outcome,
            http_status=hop.status if hop else None,
            latency_ms=hop.latency_ms if hop else None,
            reason=reason,
            error=snippet(error),
            bytes_read=hop.bytes_read if hop else 0,
            tls_expires_at=_cert_not_after(hop.peercert) if hop else None,
            final_url=str(final) if final is not None else None,
            retry_after_s=retry_after_s,
        )

    @staticmethod
    def _retry_after(hop: _Hop) -> float:
        parsed = parse_retry_after(hop.headers.get("Retry-After"))
        return DEFAULT_RETRY_AFTER_S if parsed is None else parsed

    # -- one request ------------------------------------------------------------------

    def _guard_literal(self, url: URL) -> None:
        """IP-literal hosts never reach the resolver, so the guard looks at them here."""
        host = url.raw_host or ""
        if parse_ip(host) is not None and self._overrides.lookup(host, url.port or 0) is None:
            self._guard.check(host, host)

    async def _send(self, run: _Run, method: str, url: URL) -> _Hop:
        """Send one request under the host's politeness rules; _Stop on any failure."""
        host_key = _host_key(url)
        try:
            self._guard_literal(url)
            async with self._politeness.slot(host_key):
                return await self._request(run, method, url, host_key)
        except _Stop:
            raise
        except HostBackoff as exc:
            raise _Stop(
                self._failed(
                    run, method, None, "backoff", exc, url=url,
                    outcome=Outcome.INCONCLUSIVE, retry_after_s=round(exc.remaining_s, 3),
                )
            ) from None
        except asyncio.CancelledError:
            raise
        except BlockedAddressError as exc:
            log.warning("refused %s: %s", url.host, exc)
            raise _Stop(self._failed(run, method, None, "blocked_address", exc, url=url)) from None
        except Exception as exc:  # every network condition ends as a result, never a raise
            reason = reason_for_exception(exc)
            if reason == "connection_error":
                log.info("check of %s failed: %r", url, exc)
            text = describe_exception(exc)
            raise _Stop(self._failed(run, method, None, reason, text, url=url)) from None

    async def _request(self, run: _Run, method: str, url: URL, host_key: str) -> _Hop:
        remaining = self.settings.total_timeout - run.network_s
        if remaining <= 0:
            raise TimeoutError(f"{self.settings.total_timeout} s budget spent")
        timeout = aiohttp.ClientTimeout(
            total=remaining, sock_connect=self.settings.connect_timeout
        )
        probe = ConnectionProbe()
        token = CURRENT_PROBE.set(probe)
        started = time.monotonic()
        assert self._session is not None
        try:
            async with self._session.request(
                method, url, allow_redirects=False, timeout=timeout
            ) as resp:
                hop = _Hop(
                    method=method,
                    url=url,
                    status=resp.status,
                    headers=resp.headers,
                    latency_ms=round((time.monotonic() - started) * 1000),
                    peercert=probe.peercert,
                )
                if resp.status == 429:
                    self._politeness.back_off(host_key, self._retry_after(hop))
                if method == "GET" and resp.status not in REDIRECT_STATUSES:
                    if run.keep_body is not None:
                        await self._keep_body(resp, hop, run.keep_body)
                    else:
                        await self._read_body(resp, hop)
                return hop
        finally:
            CURRENT_PROBE.reset(token)
            run.network_s += time.monotonic() - started

    async def _read_body(self, resp: aiohttp.ClientResponse, hop: _Hop) -> None:
        """Read at most ``max_body_bytes`` raw bytes, then drop the connection.

        Raw bytes (the session does not decompress), so a compression bomb costs at most
        the cap; only a bounded prefix is inflated, for challenge detection. A failure
        after the status line is noted but does not change the outcome: the status is the
        decisive fact.
        """
        cap = self.settings.max_body_bytes
        chunks: list[bytes] = []
        total = 0
        try:
            while total < cap:
                chunk = await resp.content.read(min(_READ_CHUNK, cap - total))
                if not chunk:
                    break
                total += len(chunk)
                if sum(len(c) for c in chunks) < _SNIFF_BYTES:
                    chunks.append(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            hop.body_error = f"{type(exc).__name__}: {exc}"
        if total >= cap or hop.body_error:
            resp.close()  # never drain the rest of a large or endless body
        hop.bytes_read = total
        if hop.status in (403, 429, 503):
            raw = b"".join(chunks)
            encoding = resp.headers.get("Content-Encoding", "")
            hop.body_prefix = inflate_prefix(raw, encoding, _SNIFF_BYTES)


    async def _keep_body(self, resp: aiohttp.ClientResponse, hop: _Hop, cap: int) -> None:
        """Read a page for fetch(): raw bytes up to the cap, decoded up to the cap."""
        chunks: list[bytes] = []
        total = 0
        try:
            while total <= cap:
                chunk = await resp.content.read(min(_READ_CHUNK, cap + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            hop.body_error = f"{type(exc).__name__}: {exc}"
        if total > cap or hop.body_error:
            resp.close()
        raw = b"".join(chunks)[:cap]
        hop.bytes_read = min(total, cap)
        decoded = inflate_prefix(raw, resp.headers.get("Content-Encoding", ""), cap + 1)
        hop.truncated = total > cap or len(decoded) > cap
        hop.body = decoded[:cap]
        hop.body_prefix = hop.body[:_SNIFF_BYTES]


async def iter_checks(
    checker: Checker, urls: Iterable[str], concurrency: int = 50
) -> AsyncIterator[tuple[int, CheckResult]]:
    """Yield ``(index, result)`` as checks finish, with at most ``concurrency`` in flight.

    A fixed pool of workers pulls from the URL iterator, so a round of 100,000 URLs does not
    create 100,000 tasks at once.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    pending = iter(enumerate(urls))
    results: asyncio.Queue[tuple[int, CheckResult] | None] = asyncio.Queue()

    async def worker() -> None:
        try:
            for index, url in pending:
                await results.put((index, await checker.check(url)))
        finally:
            results.put_nowait(None)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        running = len(workers)
        while running:
            item = await results.get()
            if item is None:
                running -= 1
                continue
            yield item
        ended = await asyncio.gather(*workers, return_exceptions=True)
        for outcome in ended:  # a bug in a check must not vanish silently
            if isinstance(outcome, Exception):
                raise outcome
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def check_many(
    checker: Checker, urls: Iterable[str], concurrency: int = 50
) -> list[CheckResult]:
    """Check every URL (at most ``concurrency`` at once); results in the order of ``urls``."""
    url_list = list(urls)
    ordered: list[CheckResult | None] = [None] * len(url_list)
    async for index, result in iter_checks(checker, url_list, concurrency):
        ordered[index] = result
    return [r for r in ordered if r is not None]
