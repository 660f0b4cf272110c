"""Operator settings, read from the environment once.

Every setting has a default that runs the register on one machine with no configuration; the
environment variable beside each field overrides it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///./eurodex.db"


def _parse_overrides(text: str) -> dict[str, str]:
    """Read ``host[:port]=address[:port]`` pairs separated by commas, like curl's --resolve."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, target = item.partition("=")
        if not sep or not host or not target:
            raise ValueError(
                f"EURODEX_HOST_OVERRIDES: {item!r} is not of the form host[:port]=address[:port]"
            )
        overrides[host.strip().lower()] = target.strip()
    return overrides


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Like curl's --resolve: the URL, Host header and TLS name keep the real host.
    host_overrides: dict[str, str] = field(default_factory=dict)
    # An extra CA bundle trusted on top of the system's (tests use a trustme CA).
    extra_ca_file: str | None = None
    # Networks an operator allows checks to reach despite being private or loopback.
    allowed_networks: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        networks = tuple(
            n.strip() for n in env.get("EURODEX_ALLOWED_NETWORKS", "").split(",") if n.strip()
        )
        return cls(
            database_url=env.get("EURODEX_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host_overrides=_parse_overrides(env.get("EURODEX_HOST_OVERRIDES", "")),
            extra_ca_file=env.get("EURODEX_EXTRA_CA_FILE") or None,
            allowed_networks=networks,
            base_url=env.get("EURODEX_BASE_URL", cls.base_url).rstrip("/"),
        )
