"""Official-domain matching: is a host under a domain that a public body is known to hold?

Matching is on dot boundaries only (``evilgouv.fr`` is not under ``gouv.fr``) and a host under
a shared-hosting suffix (the private section of the public suffix list: ``github.io``,
``s3.amazonaws.com``, ...) never matches, since anyone can publish there.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

# Suffixes reserved to public bodies by their registries. Written by eurodex: a name under
# one of these can only be registered by a public administration of that country or union.
PUBLIC_SECTOR_SUFFIXES: dict[str, str] = {
    "gouv.fr": "the French State's reserved suffix gouv.fr",
    "gov.uk": "the UK government's reserved suffix gov.uk",
    "gov.scot": "the Scottish Government's reserved suffix gov.scot",
    "gov.wales": "the Welsh Government's reserved suffix gov.wales",
    "europa.eu": "the European Union institutions' domain europa.eu",
    "overheid.nl": "the Dutch government's domain overheid.nl",
    "bund.de": "the German federal administration's domain bund.de",
    "admin.ch": "the Swiss federal administration's domain admin.ch",
    "gv.at": "the Austrian administration's reserved suffix gv.at",
    "gov.pl": "the Polish government's reserved suffix gov.pl",
    "gov.it": "the Italian government's reserved suffix gov.it",
    "gob.es": "the Spanish government's reserved suffix gob.es",
    "gov.pt": "the Portuguese government's reserved suffix gov.pt",
    "gov.ie": "the Irish government's reserved suffix gov.ie",
    "gov.gr": "the Greek government's reserved suffix gov.gr",
}

FR_LIST_LABEL = "the French public-sector domain list (DINUM)"


@dataclass(frozen=True)
class DomainMatch:
    """Why a host counts as official: the listed domain it lies under, and where it is listed."""

    host: str
    domain: str
    listed_in: str

    def sentence(self, institution_name: str | None = None) -> str:
        if self.listed_in.startswith("institution:"):
            owner = institution_name or self.listed_in.removeprefix("institution:")
            where = f"an official domain of {owner}"
        elif self.domain in PUBLIC_SECTOR_SUFFIXES:
            where = self.listed_in
        else:
            where = f"listed in {self.listed_in}"
        if self.host == self.domain:
            return f"host {self.host} is {where}"
        return f"host {self.host} is under {self.domain}, {where}"


def host_of(url: str | None) -> str | None:
    """The lower-case host of ``url`` without a trailing dot, or None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def parents(host: str) -> Iterable[str]:
    """``a.b.c`` yields ``a.b.c``, ``b.c``, ``c``: every dot-boundary ancestor, longest first."""
    labels = host.split(".")
    for i in range(len(labels)):
        yield ".".join(labels[i:])


@functools.cache
def _psl() -> tuple[PublicSuffixList, PublicSuffixList]:
    return PublicSuffixList(), PublicSuffixList(only_icann=True)


def is_shared_hosting(host: str) -> bool:
    """True when ``host`` lies under a private-section suffix such as ``github.io``."""
    full, icann = _psl()
    return full.publicsuffix(host) != icann.publicsuffix(host)


def _is_public_suffix(domain: str) -> bool:
    return _psl()[0].publicsuffix(domain) == domain


def _hosts_from_lines(lines: Iterable[str]) -> set[str]:
    hosts: set[str] = set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        host = host_of(line) if "://" in line else line.rstrip(".").lower()
        if host:
            hosts.add(host)
    return hosts


@functools.cache
def french_public_hosts() -> frozenset[str]:
    """Every host of the shipped French public-sector lists (urls.txt and the categories)."""
    folder = resources.files("eurodex.reference") / "fr-noms-de-domaine"
    hosts = _hosts_from_lines((folder / "urls.txt").read_text("utf-8").splitlines())
    for item in (folder / "sources-2023-01").iterdir():
        if item.name.endswith(".txt"):
            hosts |= _hosts_from_lines(item.read_text("utf-8").splitlines())
    return frozenset(hosts)


class DomainRegistry:
    """Public-sector domain lists, searched on dot boundaries."""

    def __init__(self, listed: dict[str, str] | None = None) -> None:
        # domain -> the list it comes from, in words
        self.listed: dict[str, str] = dict(PUBLIC_SECTOR_SUFFIXES)
        if listed:
            self.listed.update(listed)

    @classmethod
    def shipped(cls) -> DomainRegistry:
        return cls({host: FR_LIST_LABEL for host in french_public_hosts()})

    def match(
        self, host: str | None, institution_domains: Iterable[str] = ()
    ) -> DomainMatch | None:
        """The closest official domain ``host`` equals or lies under, or None.

        The institution's own domains are tried first so the evidence names the owner; an
        exact listing of the host beats a parent domain.
        """
        if not host or is_shared_hosting(host):
            return None
        own = {d.lower().rstrip(".") for d in institution_domains}
        for candidate in parents(host):
            if candidate in own:
                return DomainMatch(host, candidate, f"institution:{candidate}")
        for candidate in parents(host):
            if "." not in candidate:
                break  # a bare top-level domain is never official evidence
            where = self.listed.get(candidate)
            if where is None:
                continue
            # A list row that is itself a public suffix (``asso.fr``) would vouch for every
            # name under it; only the reserved public-sector suffixes may do that.
            if candidate not in PUBLIC_SECTOR_SUFFIXES and _is_public_suffix(candidate):
                continue
            return DomainMatch(host, candidate, where)
        return None
