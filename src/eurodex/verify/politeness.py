"""Per-host politeness: connection cap, budget per minute, and 429 back-off.

The register checks the same public-sector hosts around the clock; many of them are small
municipal servers. Methodology section 4 therefore caps what one host sees from us: at most
``per_host_connections`` requests in flight, at most ``per_host_per_minute`` requests per
minute (an aiolimiter leaky bucket), and after a 429 nothing at all until its Retry-After
has passed. Hosts are keyed by ``host:port`` as written in the URL (lower-cased), so two
services on different ports of one machine are separate hosts, as they are to a browser.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiolimiter import AsyncLimiter

log = logging.getLogger("eurodex.verify")

#: Back-off used when a 429 carries no usable Retry-After.
DEFAULT_RETRY_AFTER_S = 60.0
#: Never honour more than this (a day); a larger value is most likely a server bug.
MAX_RETRY_AFTER_S = 86_400.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None.

    A date in the past gives 0; garbage gives None so the caller can pick its default.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER_S)


class HostBackoff(Exception):
    """The host is backing us off for longer than the checker is willing to wait."""

    def __init__(self, host: str, remaining_s: float) -> None:
        super().__init__(f"{host} asked us to wait {remaining_s:.0f} s more (429 Retry-After)")
        self.host = host
        self.remaining_s = remaining_s


class HostGate:
    """Everything the checker must respect before sending one request to one host."""

    def __init__(self, connections: int, per_minute: float) -> None:
        self.semaphore = asyncio.Semaphore(connections)
        self.limiter = AsyncLimiter(per_minute, 60.0)
        self.not_before = 0.0  # time.monotonic() before which nothing may be sent

    async def wait_backoff(self, host: str, max_wait_s: float) -> None:
        """Sleep until the host's Retry-After has passed (re-checked: it may be extended)."""
        while True:
            remaining = self.not_before - time.monotonic()
            if remaining <= 0:
                return
            if remaining > max_wait_s:
                raise HostBackoff(host, remaining)
            log.debug("waiting %.2f s for %s (Retry-After)", remaining, host)
            await asyncio.sleep(remaining)


class Politeness:
    """The registry of host gates, shared by every check of one Checker."""

    def __init__(
        self, connections: int, per_minute: float, max_backoff_wait_s: float
    ) -> None:
        self._connections = connections
        self._per_minute = per_minute
        self._max_wait = max_backoff_wait_s
        self._gates: dict[str, HostGate] = {}

    def gate(self, host_key: str) -> HostGate:
        gate = self._gates.get(host_key)
        if gate is None:
            gate = self._gates[host_key] = HostGate(self._connections, self._per_minute)
        return gate

    @asynccontextmanager
    async def slot(self, host_key: str) -> AsyncIterator[None]:
        """Hold one of the host's connection slots, after its budget and back-off allow.

        The back-off is checked again once the slot is held: a 429 that arrived while this
        request was queued must still keep it from being sent.
        """
        gate = self.gate(host_key)
        await gate.wait_backoff(host_key, self._max_wait)
        async with gate.semaphore:
            await gate.wait_backoff(host_key, self._max_wait)
            await gate.limiter.acquire()
            await gate.wait_backoff(host_key, self._max_wait)
            yield

    def back_off(self, host_key: str, seconds: float) -> None:
        """Record that ``host_key`` must not be contacted for ``seconds`` from now."""
        gate = self.gate(host_key)
        gate.not_before = max(gate.not_before, time.monotonic() + seconds)
        log.info("host %s backs us off for %.1f s", host_key, seconds)
