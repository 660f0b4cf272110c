"""Reading a portal's pages from harvest code, through the verify client's guarded Checker.

Harvesters are plain generators (the pipeline pulls one record at a time, so memory stays
bounded), while the Checker is asynchronous. A :class:`PageFetcher` runs one Checker on an
event loop in a thread of its own and hands each page back synchronously. Every page goes
through the same address guard, politeness and redirect rules as a check: a URL found in
harvested data can never make the register reach a loopback or private address unless the
operator allowed that network.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import replace

from eurodex.harvest.limits import load_json
from eurodex.harvest.records import HarvestError
from eurodex.verify.check import Checker
from eurodex.verify.settings import CheckSettings

log = logging.getLogger("eurodex.harvest")

# A catalogue page (1,000 CKAN packages, a page of RDF) is far larger than a checked page.
DEFAULT_PAGE_BYTES = 64 * 1024 * 1024
PAGE_TIMEOUT_S = 120.0


class PageFetcher:
    """GETs harvest pages one at a time; a page that is not a 2xx is a HarvestError."""

    def __init__(self, settings: CheckSettings | None = None, *,
                 max_bytes: int = DEFAULT_PAGE_BYTES) -> None:
        base = settings or CheckSettings()
        self.settings = replace(base, total_timeout=max(base.total_timeout, PAGE_TIMEOUT_S))
        self.max_bytes = max_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._checker: Checker | None = None
        self.pages = 0

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="eurodex-harvest-fetch",
                                        daemon=True)
        self._thread.start()
        self._loop = loop
        self._checker = Checker(self.settings)
        asyncio.run_coroutine_threadsafe(self._checker.__aenter__(), loop).result()

    def get(self, url: str) -> bytes:
        """The body of ``url``; HarvestError naming the URL when it cannot be read whole."""
        if self._loop is None:
            self._start()
        assert self._loop is not None and self._checker is not None
        fetched = asyncio.run_coroutine_threadsafe(
            self._checker.fetch(url, max_bytes=self.max_bytes), self._loop).result()
        result = fetched.result
        if not fetched.ok:
            status = f"HTTP {result.http_status}" if result.http_status else result.reason
            raise HarvestError(f"{url}: page not read ({status}: {result.error or result.reason})")
        if fetched.truncated:
            raise HarvestError(f"{url}: page larger than {self.max_bytes} bytes")
        self.pages += 1
        log.debug("harvest page %s: %d bytes", url, len(fetched.body))
        return fetched.body

    def json(self, url: str) -> object:
        body = self.get(url)
        try:
            return load_json(body)
        except ValueError as exc:  # not JSON, or nested too deeply
            raise HarvestError(f"{url}: {exc}") from exc

    def close(self) -> None:
        if self._loop is None:
            return
        if self._checker is not None:
            asyncio.run_coroutine_threadsafe(self._checker.__aexit__(None, None, None),
                                             self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._checker = None

    def __enter__(self) -> PageFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
