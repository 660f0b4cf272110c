"""Security headers on every response, and a rate limit on the public JSON API.

Pure ASGI middleware, so it costs one dictionary look-up per request and wraps streamed
responses (exports, DCAT) without buffering them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

# No inline script anywhere: pages work without JavaScript, so scripts are refused outright.
# JSON-LD data blocks are not executed, so the CSP does not concern them.
PAGE_CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's interactive docs page is the one page that runs script: Swagger UI, served from
# the register itself (the register must work offline, so no CDN), plus the one inline script
# that starts it, allowed by its hash alone (``docs_csp``). Without that hash, as here, no
# inline script runs. Swagger UI sets no inline styles, so style-src stays 'self'.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def docs_csp(html: str) -> str:
    """DOCS_CSP, letting run exactly the inline scripts of ``html`` and no other.

    FastAPI's Swagger UI page starts Swagger UI from an inline script; a hash allows that one
    script without 'unsafe-inline', which would let any injected script run too.
    """
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return DOCS_CSP.replace("script-src 'self'", "script-src 'self'" + hashes, 1)


COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the CSP and the other protective headers unless a route already set them."""

    def __init__(self, app, docs_path: str | None = "/api/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = self.docs_path is not None and scope["path"].startswith(self.docs_path)
        csp = (DOCS_CSP if docs else PAGE_CSP).encode()

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                headers.extend(h for h in COMMON_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Per-client token buckets: ``rate`` requests a minute, bursts up to ``burst``.

    Bounded: the least recently seen clients are forgotten past ``max_clients``, so a flood of
    spoofed addresses cannot grow memory without limit.
    """

    def __init__(self, per_minute: float, burst: int, max_clients: int = 50_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str, now: float | None = None) -> float:
        """0 when a request may go ahead; otherwise the seconds to wait before the next one."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[client] = bucket
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate if self.rate > 0 else 60.0


class ApiRateLimit:
    """429 with Retry-After, in the API's one error shape, for clients over their budget."""

    def __init__(self, app, *, per_minute: float, burst: int, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix
        self.buckets = TokenBuckets(per_minute, burst) if per_minute > 0 else None

    async def __call__(self, scope, receive, send) -> None:
        if (self.buckets is None or scope["type"] != "http"
                or not scope["path"].startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.buckets.take(client)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = json.dumps({
            "ok": False, "status": 429,
            "error": f"too many requests: retry after {retry_after} s",
        }).encode()
        await send({
            "type": "http.response.start", "status": 429,
            "headers": [(b"content-type", b"application/json"),
                        (b"retry-after", str(retry_after).encode()),
                        (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})
