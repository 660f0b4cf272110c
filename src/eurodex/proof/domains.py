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

# Hosting, blogging and social platforms that give anyone a name or a page under them but are
# not in the public suffix list's private section. Some appear bare in the shipped French list
# (``wordpress.com``, ``facebook.com``, ``pagesperso-orange.fr``, ``wix.com``, ``sfr.fr``,
# ``chez.com``, ``sitego.fr``, ``perso.wanadoo.fr``): a commune's blog was listed by its
# platform's name. A host on one of them is judged alone: only an exact listing of that very
# host counts, never a parent, and the platform's own name never does.
SHARED_PLATFORMS: frozenset[str] = frozenset({
    "wordpress.com", "wordpress.org", "pagesperso-orange.fr", "wix.com", "wixsite.com",
    "facebook.com", "sfr.fr", "wanadoo.fr", "orange.fr", "free.fr", "chez.com", "sitego.fr",
    "over-blog.com", "overblog.com", "e-monsite.com", "jimdo.com", "jimdofree.com",
    "webnode.fr", "canalblog.com", "hautetfort.com", "unblog.fr", "eklablog.com",
    "kazeo.com", "weebly.com", "tumblr.com", "medium.com", "substack.com", "youtube.com",
    "twitter.com", "x.com", "instagram.com", "linkedin.com", "google.com", "github.com",
    "gitlab.com", "bitbucket.org", "sharepoint.com", "notion.site", "framasite.org",
})


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


def is_shared_hosting(host: str, reserved: Iterable[str] = PUBLIC_SECTOR_SUFFIXES) -> bool:
    """True when ``host`` lies under a private-section suffix such as ``github.io``.

    Governments file suffixes in the private section too (``gov.scot``, ``service.gov.uk``,
    ``independent-inquiry.uk``): there only public bodies get names, so a private suffix that
    equals or lies under a ``reserved`` public-sector suffix is not shared hosting.
    """
    full, icann = _psl()
    private = full.publicsuffix(host)
    if private == icann.publicsuffix(host):
        return False
    reserved = set(reserved)
    return not any(parent in reserved for parent in parents(private))


def is_public_suffix(domain: str) -> bool:
    """True when anyone may register names directly under ``domain`` (``com``, ``co.uk``)."""
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
    """Public-sector domain lists, searched on dot boundaries.

    ``listed`` maps a domain to the list it comes from, in words: the domain and every
    sub-domain of it count. ``wildcards`` maps a base to its list for rows written ``*.base``
    (the UK list's ``*.nhs.uk``): only names strictly under the base count. Wildcards are
    vetted by their loader (``proof.reference``), since they may name a public suffix.
    """

    def __init__(
        self, listed: dict[str, str] | None = None, wildcards: dict[str, str] | None = None
    ) -> None:
        self.listed: dict[str, str] = dict(listed or {})
        self.listed.update(PUBLIC_SECTOR_SUFFIXES)  # reserved suffixes keep their own words
        self.wildcards: dict[str, str] = dict(wildcards or {})

    @classmethod
    def shipped(cls) -> DomainRegistry:
        """Every public-sector list shipped with eurodex (see ``proof.reference``); built once
        and shared, so never ``add`` to it (``reference.registry_with`` makes a copy)."""
        from eurodex.proof.reference import shipped_registry  # it imports this module

        return shipped_registry()

    def add(self, domain: str, where: str) -> None:
        self.listed.setdefault(domain.lower().rstrip("."), where)

    @property
    def reserved(self) -> set[str]:
        """Suffixes that only public bodies can get names under."""
        return set(PUBLIC_SECTOR_SUFFIXES) | set(self.wildcards)

    def match(
        self, host: str | None, institution_domains: Iterable[str] = ()
    ) -> DomainMatch | None:
        """The closest official domain ``host`` equals or lies under, or None.

        The institution's own domains are tried first so the evidence names the owner; an
        exact listing of the host beats a parent domain.
        """
        if not host or is_shared_hosting(host, self.reserved):
            return None
        platform = next((p for p in parents(host) if p in SHARED_PLATFORMS), None)
        if platform == host:
            return None
        candidates = [host] if platform else list(parents(host))
        own = {d.lower().rstrip(".") for d in institution_domains}
        for candidate in candidates:
            if candidate in own and "." in candidate:
                return DomainMatch(host, candidate, f"institution:{candidate}")
        for candidate in candidates:
            if "." not in candidate:
                break  # a bare top-level domain is never official evidence
            where = self.listed.get(candidate)
            if where is not None and (
                # A list row that is itself a public suffix (``asso.fr``) would vouch for
                # every name under it; only the reserved public-sector suffixes may do that.
                candidate in PUBLIC_SECTOR_SUFFIXES or not is_public_suffix(candidate)
            ):
                return DomainMatch(host, candidate, where)
            where = self.wildcards.get(candidate)
            if where is not None and candidate != host:
                return DomainMatch(host, candidate, where)
        return None
