"""Only the host names the operator serves the register under are answered.

Every absolute link the register publishes (feeds, DCAT-AP, the sitemap, llms.txt, the JSON
API's ``url`` fields, MCP answers) is built from the address the request arrived at, so that
it stays right behind a proxy. That address comes from the ``Host`` header, which the client
writes: answered blindly, ``Host: evil.example`` would put the attacker's links in responses
that shared caches keep. So a request naming any other host is refused with 400 before any
route runs.

The names answered are the loopback names, the host of ``EURODEX_BASE_URL``, the address
``eurodex serve --host`` listens on, and those listed in ``EURODEX_ALLOWED_HOSTS`` (``*``
answers any, for an operator whose proxy already checks the name). ``/healthz`` answers under
any name: probes often use the machine's address, and it publishes no link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse

from eurodex.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: Listening on these means "every address", not a name anyone requests.
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")
ANY_NAME_PATHS = ("/healthz",)


def answered_hosts(settings: Settings, listening_on: str | None = None) -> tuple[str, ...]:
    """The host names (lower case, no port) this register answers to."""
    names = [*LOOPBACK_NAMES, *host_names(settings.allowed_hosts)]
    base_host = urlsplit(settings.base_url).hostname
    if base_host:
        names.append(base_host.lower())
    if listening_on and listening_on.strip("[]") not in WILDCARD_ADDRESSES:
        names.append(listening_on.strip("[]").lower())
    return tuple(dict.fromkeys(n for n in names if n))


def _matches(host: str, patterns: Iterable[str]) -> bool:
    """``host`` equals a pattern, or lies under a ``*.example.org`` pattern."""
    for pattern in patterns:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


# host[:port], as RFC 9110 allows it: a name or IPv4 address, or an IPv6 literal in brackets.
_HOST_HEADER = re.compile(r"(?P<name>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")


def _host_name(header: str) -> str:
    """The name in a well-formed ``Host`` header, lower case, without port or brackets; ""
    for anything else (a user part, a path, a port out of range), which nothing answers."""
    found = _HOST_HEADER.fullmatch(header.strip())
    if not found or (found["port"] and not 0 < int(found["port"]) <= 65535):
        return ""
    return found["name"].strip("[]").lower()


def host_names(values: Iterable[str]) -> tuple[str, ...]:
    """Allowed-host settings as names: ``https://proxy.example:8443`` is ``proxy.example``
    (a port or scheme there would otherwise make the name silently never match)."""
    names = []
    for value in (v.strip().lower() for v in values):
        try:
            name = urlsplit(value if "//" in value else f"//{value}").hostname
        except ValueError:  # an unbalanced bracket: kept as written, it matches nothing
            name = None
        names.append(name or value)  # a bare IPv6 address has no URL form: as written
    return tuple(n for n in names if n)


class KnownHosts:
    """Pure ASGI middleware: a request whose ``Host`` is not answered gets a plain 400."""

    def __init__(self, app, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = tuple(hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in ANY_NAME_PATHS:
            await self.app(scope, receive, send)
            return
        host = _host_name(Headers(scope=scope).get("host", ""))
        if host and _matches(host, self.hosts):
            await self.app(scope, receive, send)
            return
        named = repr(host[:100]) if host else "this Host header"
        message = (f"This register does not answer to {named}. Its operator lists the host "
                   "names it is served under in EURODEX_BASE_URL or EURODEX_ALLOWED_HOSTS.")
        if scope["path"].startswith("/api/"):  # the JSON API's one error shape
            response = JSONResponse({"ok": False, "error": message, "status": 400}, 400)
        else:
            response = PlainTextResponse(message + "\n", status_code=400)
        await response(scope, receive, send)
