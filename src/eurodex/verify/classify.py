"""Turning what happened on the wire into an Outcome and a machine-readable reason.

Kept apart from the request loop so the rules of methodology section 4 can be read (and
changed) in one place. Reasons:

DOWN: dns, refused, timeout, connect_timeout, tls_certificate, tls_expired, tls_hostname,
tls_other, http_404, http_410, http_4xx, http_5xx, http_3xx (a redirect without a usable
Location), redirect_loop, too_many_redirects, blocked_address, invalid_url,
connection_error.
INCONCLUSIVE: http_429, challenge, backoff (the host's Retry-After is further away than
the checker waits; nothing was sent).
UP / UP_AUTH carry no reason.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import zlib
from collections.abc import Mapping

import aiohttp

from eurodex.model import Outcome
from eurodex.verify.netguard import BLOCKED_REASON, BlockedAddressError

ERROR_SNIPPET_CHARS = 300

#: HEAD answers that make the checker repeat the request with GET (methodology section 4).
HEAD_RETRY_STATUSES = frozenset({400, 403, 404, 405, 501})
#: Headers that show a HEAD answer describes a real resource.
USEFUL_HEAD_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h).
_X509_CERT_NOT_YET_VALID = 9
_X509_CERT_HAS_EXPIRED = 10
_X509_HOSTNAME_MISMATCH = 62
_X509_IP_ADDRESS_MISMATCH = 64

#: Bodies that betray a bot-protection interstitial rather than the service itself.
_CHALLENGE_MARKERS = (
    b"<title>just a moment...</title>",  # Cloudflare managed challenge
    b"cf-browser-verification",
    b"challenge-platform",  # Cloudflare challenge scripts (/cdn-cgi/challenge-platform/)
    b"attention required! | cloudflare",
    b"captcha-delivery.com",  # DataDome
    b"_incapsula_resource",  # Imperva / Incapsula
    b"ddos-guard",
    b"sucuri website firewall",
)
_CHALLENGE_STATUSES = frozenset({403, 429, 503})


def snippet(text: object) -> str:
    """An error text short enough to store (methodology: at most 300 characters)."""
    value = " ".join(str(text).split())
    return value[:ERROR_SNIPPET_CHARS]


def has_useful_header(headers: Mapping[str, str]) -> bool:
    """Whether a HEAD answer tells anything about the resource.

    Useful: Content-Type, Content-Length, ETag or Last-Modified. A HEAD answer with none of
    them (typical of frameworks that stub HEAD) is repeated with GET.
    """
    return any(name in headers for name in USEFUL_HEAD_HEADERS)


def is_challenge(status: int, headers: Mapping[str, str], body: bytes = b"") -> bool:
    """Detect a bot-protection challenge instead of the real answer.

    Detected: ``cf-mitigated: challenge`` (Cloudflare, any status); ``x-amzn-waf-action:
    challenge|captcha`` (AWS WAF); and on 403/429/503 a body (first bytes, case-folded)
    containing a known interstitial marker: Cloudflare "Just a moment..." / challenge
    platform / "Attention Required!", DataDome captcha, Imperva/Incapsula, DDoS-Guard,
    Sucuri firewall.
    """
    if headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return True
    if headers.get("x-amzn-waf-action", "").strip().lower() in ("challenge", "captcha"):
        return True
    if status not in _CHALLENGE_STATUSES or not body:
        return False
    folded = body.lower()
    return any(marker in folded for marker in _CHALLENGE_MARKERS)


def inflate_prefix(raw: bytes, encoding: str, limit: int) -> bytes:
    """Decode at most ``limit`` bytes of a gzip/deflate body prefix, for sniffing only.

    ``max_length`` bounds the output, so a compression bomb costs at most ``limit`` bytes.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw[:limit]
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return b""
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    try:
        return zlib.decompressobj(wbits).decompress(raw, limit)
    except zlib.error:
        if encoding == "deflate":  # some servers send raw deflate without the zlib header
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, limit)
            except zlib.error:
                return b""
        return b""


def outcome_for_status(status: int) -> tuple[Outcome, str | None]:
    """The outcome of a final (non-redirect, non-challenge) HTTP status."""
    if 200 <= status < 300:
        return Outcome.UP, None
    if status in (401, 403):
        return Outcome.UP_AUTH, None
    if status == 429:
        return Outcome.INCONCLUSIVE, "http_429"
    if status == 404:
        return Outcome.DOWN, "http_404"
    if status == 410:
        return Outcome.DOWN, "http_410"
    if 400 <= status < 500:
        return Outcome.DOWN, "http_4xx"
    if 300 <= status < 400:
        return Outcome.DOWN, "http_3xx"
    return Outcome.DOWN, "http_5xx"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts, outermost first, without cycles."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        os_error = getattr(current, "os_error", None)
        if isinstance(os_error, BaseException) and os_error is not current:
            seen.append(os_error)
        current = current.__cause__ or current.__context__
    return seen


def _tls_reason(exc: BaseException) -> str:
    verify_code = getattr(exc, "verify_code", None)
    cert_error = getattr(exc, "certificate_error", None)
    if verify_code is None and cert_error is not None:
        verify_code = getattr(cert_error, "verify_code", None)
    if verify_code == _X509_CERT_HAS_EXPIRED:
        return "tls_expired"
    if verify_code in (_X509_HOSTNAME_MISMATCH, _X509_IP_ADDRESS_MISMATCH):
        return "tls_hostname"
    if verify_code == _X509_CERT_NOT_YET_VALID:
        return "tls_certificate"
    text = str(exc).lower()
    if "hostname mismatch" in text or "doesn't match" in text:
        return "tls_hostname"
    if "expired" in text:
        return "tls_expired"
    return "tls_certificate"


def describe_exception(exc: BaseException) -> str:
    """The most telling text for the stored error snippet (the guard's own words if any)."""
    for item in _chain(exc):
        if isinstance(item, BlockedAddressError):
            return str(item)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def reason_for_exception(exc: BaseException) -> str:
    """The DOWN reason for an exception raised while sending a request or reading it."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, BlockedAddressError):
            return BLOCKED_REASON
    for item in chain:
        if isinstance(
            item, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError
        ):
            return _tls_reason(item)
    for item in chain:
        if isinstance(item, aiohttp.ClientConnectorSSLError | ssl.SSLError):
            return "tls_other"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect_timeout"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "invalid_url"
    for item in chain:
        if isinstance(item, aiohttp.ClientConnectorDNSError | socket.gaierror):
            return "dns"
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return "refused"
        if isinstance(item, OSError) and item.errno == errno.ECONNREFUSED:
            return "refused"
        if isinstance(item, OSError) and item.errno == errno.ETIMEDOUT:
            return "connect_timeout"
    return "connection_error"
