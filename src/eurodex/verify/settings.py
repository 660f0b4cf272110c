"""Configuration of the URL checker (methodology section 4 gives the defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_USER_AGENT = "eurodex/0.1 (+https://github.com/eurodex/eurodex; register verification)"


@dataclass(frozen=True)
class CheckSettings:
    """How one Checker behaves. Every default is the methodology's value.

    ``host_overrides`` works like curl's ``--resolve``: keys are "host" or "host:port", values
    "ip" or "ip:port". The URL, the Host header and TLS SNI / hostname verification keep the
    real name; only the address connected to changes. Override targets are trusted by the
    address guard for the overridden name only.

    ``allowed_networks`` (CIDR strings) are exempt from the address guard; by default the
    guard refuses loopback, private, link-local, multicast, unspecified and reserved
    addresses. ``guard_addresses=False`` disables the guard (local experiments only).

    ``max_backoff_wait_s``: a check of a host that sent 429 sleeps until its Retry-After has
    passed, unless that is further away than this; then the check is INCONCLUSIVE
    (reason "backoff") without sending anything.
    """

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_redirects: int = 10
    max_body_bytes: int = 64 * 1024
    per_host_connections: int = 2
    per_host_per_minute: float = 60.0
    max_backoff_wait_s: float = 120.0
    max_connections: int = 256
    host_overrides: dict[str, str] = field(default_factory=dict)
    extra_ca_file: str | None = None
    allowed_networks: list[str] = field(default_factory=list)
    guard_addresses: bool = True
