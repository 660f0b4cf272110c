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


def _parse_flag(name: str, text: str | None, default: bool) -> bool:
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}: {text!r} is not a yes/no value (use 1 or 0)")


def _parse_rate(text: str | None) -> float:
    if text is None or not text.strip():
        return 300.0
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(
            f"EURODEX_API_RATE_LIMIT: {text!r} is not a number of requests a minute"
        ) from None
    if rate < 0:
        raise ValueError("EURODEX_API_RATE_LIMIT must be 0 (off) or more")
    return rate


def _comma_list(text: str | None) -> tuple[str, ...]:
    """A comma-separated setting's values, stripped, empty ones dropped."""
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


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
    # Host names the web register answers to besides loopback and base_url's host
    # (EURODEX_ALLOWED_HOSTS, comma-separated; "*" for any, "*.example.org" for sub-domains).
    allowed_hosts: tuple[str, ...] = ()
    # The operator's curation YAML (institutions, domains, trusted sources, blocklist).
    curation_file: str | None = None
    # The operator's harvest sources YAML (EURODEX_SOURCES_FILE); the shipped one when unset.
    sources_file: str | None = None
    # Run the verification loops inside the web process (EURODEX_SCHEDULER). Off unless asked
    # for, so an app built in a test or a script never starts checking the internet; the
    # `run` and `serve` commands turn it on by default.
    scheduler: bool = False
    scheduler_tick_s: float = 30.0
    # Methodology 4: the uptime probe every 15 minutes, full verification every 6 hours.
    probe_period_s: float = 15 * 60
    full_period_s: float = 6 * 3600
    # Requests a minute each client may make to /api/ (EURODEX_API_RATE_LIMIT; 0 turns the
    # limit off), with bursts of up to a fifth of that.
    api_rate_per_minute: float = 300.0

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, *, scheduler_default: bool = False
    ) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("EURODEX_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host_overrides=_parse_overrides(env.get("EURODEX_HOST_OVERRIDES", "")),
            extra_ca_file=env.get("EURODEX_EXTRA_CA_FILE") or None,
            allowed_networks=_comma_list(env.get("EURODEX_ALLOWED_NETWORKS")),
            base_url=env.get("EURODEX_BASE_URL", cls.base_url).rstrip("/"),
            allowed_hosts=_comma_list(env.get("EURODEX_ALLOWED_HOSTS")),
            curation_file=env.get("EURODEX_CURATION_FILE") or None,
            sources_file=env.get("EURODEX_SOURCES_FILE") or None,
            scheduler=_parse_flag("EURODEX_SCHEDULER", env.get("EURODEX_SCHEDULER"),
                                  scheduler_default),
            api_rate_per_minute=_parse_rate(env.get("EURODEX_API_RATE_LIMIT")),
        )
