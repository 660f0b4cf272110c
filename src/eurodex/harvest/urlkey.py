"""The URL key that tells two sources' records of one resource apart from two resources.

Two catalogues rarely spell a URL the same way: one writes ``https://API.example.fr:443/v1/``,
another ``http://api.example.fr/v1?utm_source=portal``. The key drops what does not change
the resource (scheme, host case, default port, trailing slash, fragment, tracking
parameters) and keeps what does (path and the remaining query, in order).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

# Query parameters that track a visit and never select a resource.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "igshid",
     "yclid", "ref_src"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def url_key(url: str | None) -> str | None:
    """``host[:port]/path[?query]`` normalised, or None for anything that is not http(s)."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    key = netloc + path
    if query:
        key += "?" + urlencode(query)
    return key
