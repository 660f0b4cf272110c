"""The reference lists shipped in ``eurodex.reference``, read into the shapes the proofs use.

Each folder there keeps its SOURCE.md (origin, licence) and an EURODEX.md saying what is read
from it. Everything is read once per process and cached: the lists change only with a new
release of the package.

Rules that keep a list from vouching for more than it says:

* a row that is not a well-formed host name is skipped (the Dutch list has one);
* a bare top-level domain is never accepted, and a row that is itself a public suffix
  (``co.uk``) is ignored at match time by :class:`DomainRegistry`;
* a UK wildcard ``*.base`` is honoured (names strictly under ``base``) only when the UK list
  marks it as a public-sector space (types ``*_wildcard``, ``nhs``, ``police``, ``military``),
  since such bases are often public suffixes themselves (``nhs.uk``);
* GitHub logins are compared lower-cased, as GitHub does.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable

import yaml

from eurodex.proof.domains import FR_LIST_LABEL, DomainRegistry, french_public_hosts, host_of

log = logging.getLogger("eurodex.proof")

UK_LIST_LABEL = "the UK public-sector domain list (ukps-domains)"
NL_LIST_LABEL = "the Dutch government domain list (Open State Foundation)"
EU_LIST_LABEL = "eurodex's list of EU institutions"
GOV_GITHUB_LABEL = "GitHub's government organisations list"
RESEARCH_GITHUB_LABEL = "GitHub's government-funded research list"
CODEGOUV_LABEL = "code.gouv.fr's public-sector accounts"

# UK list types whose ``*.`` rows declare a whole public-sector name space.
_UK_WILDCARD_TYPES = frozenset({"public_sector_wildcard", "devolved_wildcard", "nhs", "police",
                                "military"})

_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

# Sections of GitHub's lists that name one European country (or the EU), as ISO codes.
GITHUB_SECTION_COUNTRIES: dict[str, str] = {
    "Austria": "AT", "Belgium": "BE", "Bulgaria": "BG", "Czech Republic": "CZ",
    "Denmark": "DK", "Estonia": "EE", "European Union": "EU", "Finland": "FI", "France": "FR",
    "Germany": "DE", "Greece": "GR", "Hungary": "HU", "Ireland": "IE", "Italy": "IT",
    "Latvia": "LV", "Lithuania": "LT", "Luxemburg": "LU", "Netherlands": "NL", "Norway": "NO",
    "Poland": "PL", "Portugal": "PT", "Romania": "RO", "Slovakia": "SK", "Spain": "ES",
    "Sweden": "SE", "Switzerland": "CH", "U.K. Central": "GB", "U.K. Councils": "GB",
    "U.K": "GB",
}


def _folder(name: str) -> Traversable:
    return resources.files("eurodex.reference") / name


def is_host_name(text: str) -> bool:
    """A lower-case DNS name of at least two labels (``knmi.nl``), nothing else."""
    return bool(_HOST_RE.match(text))


# -- domains --------------------------------------------------------------------------------


@functools.cache
def uk_domains() -> tuple[dict[str, str], dict[str, str]]:
    """The UK list as (exact domains, wildcard bases), each mapped to its label."""
    data = json.loads((_folder("uk-ukps-domains") / "user_domains.json").read_text("utf-8"))
    exact: dict[str, str] = {}
    wildcards: dict[str, str] = {}
    for row in data.get("domains", []):
        pattern = str(row.get("domain_pattern") or "").strip().lower().rstrip(".")
        if pattern.startswith("*."):
            base = pattern[2:]
            if row.get("organisation_type_id") in _UK_WILDCARD_TYPES and is_host_name(base):
                wildcards[base] = f"{UK_LIST_LABEL}, as *.{base}"
        elif is_host_name(pattern):
            exact[pattern] = UK_LIST_LABEL
    return exact, wildcards


@functools.cache
def nl_domains() -> dict[str, str]:
    """The Dutch list: domain -> label. Its licence is unclear (see its SOURCE.md)."""
    text = (_folder("nl-government-domains") / "domains.csv").read_text("utf-8")
    found: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        domain = (row.get("Domain Name") or "").strip().lower().rstrip(".")
        if is_host_name(domain):
            found[domain] = NL_LIST_LABEL
    return found


# -- institutions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceInstitution:
    """A public body as a reference list or the operator's curation file describes it."""

    slug: str
    name: str
    country: str
    type: str
    acronym: str | None = None
    homepage_url: str | None = None
    domains: tuple[str, ...] = ()
    github_orgs: tuple[str, ...] = ()
    listed_in: str = EU_LIST_LABEL


@functools.cache
def eu_institutions() -> tuple[ReferenceInstitution, ...]:
    rows = yaml.safe_load((_folder("eu-institutions") / "institutions.yaml").read_text("utf-8"))
    return tuple(
        ReferenceInstitution(
            slug=row["slug"], name=row["name"], country="EU", type="EU_INSTITUTION",
            acronym=row.get("acronym"), homepage_url=row.get("homepage"),
            domains=tuple(d.lower() for d in row.get("domains") or ()),
            github_orgs=tuple(o.lower() for o in row.get("github_orgs") or ()),
        )
        for row in rows
    )


# -- GitHub organisations -------------------------------------------------------------------


@dataclass(frozen=True)
class GitHubOrgListing:
    """Where a GitHub organisation is listed as public-sector, and for which country."""

    login: str  # lower-cased
    listed_in: str
    country: str | None
    # The public body's name when the list gives one (code.gouv.fr, through its pso_id).
    owner_name: str | None = None


def _github_lists() -> Iterator[GitHubOrgListing]:
    folder = _folder("github-government")
    # civic_hackers.yml is deliberately not read: civic-tech groups are not public bodies.
    for file, label in (("governments.yml", GOV_GITHUB_LABEL),
                        ("research.yml", RESEARCH_GITHUB_LABEL)):
        sections = yaml.safe_load((folder / file).read_text("utf-8")) or {}
        for section, logins in sections.items():
            for login in logins or ():
                yield GitHubOrgListing(str(login).lower(), f"{label} ({section})",
                                       GITHUB_SECTION_COUNTRIES.get(section))


def _codegouvfr_names() -> dict[str, str]:
    """pso_id -> name, from the two code.gouv.fr files that name public bodies."""
    folder = _folder("fr-codegouvfr")
    names = {str(k): str(v) for k, v in (
        yaml.safe_load((folder / "top_organizations.yml").read_text("utf-8")) or {}).items()}
    ospos = yaml.safe_load((folder / "fr-public-sector-ospo.yml").read_text("utf-8")) or {}
    for details in ospos.values():
        if isinstance(details, dict) and details.get("pso_id") and details.get("name"):
            names.setdefault(str(details["pso_id"]), str(details["name"]))
    return names


def _codegouvfr_accounts() -> Iterator[GitHubOrgListing]:
    folder = _folder("fr-codegouvfr")
    forges = yaml.safe_load((folder / "comptes-organismes-publics.yml").read_text("utf-8"))
    names = _codegouvfr_names()
    owners = (forges.get("github.com") or {}).get("owners") or {}
    for login, details in owners.items():
        pso_id = str((details or {}).get("pso_id") or "")
        yield GitHubOrgListing(str(login).lower(), CODEGOUV_LABEL, "FR", names.get(pso_id))


@functools.cache
def public_sector_github_orgs() -> dict[str, GitHubOrgListing]:
    """Every GitHub organisation a shipped list calls public-sector, by lower-cased login."""
    found: dict[str, GitHubOrgListing] = {}
    for listing in (*_codegouvfr_accounts(), *_github_lists()):
        found.setdefault(listing.login, listing)
    return found


# -- data portals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalListing:
    host: str
    name: str
    owner: str


@functools.cache
def known_portals() -> dict[str, PortalListing]:
    """Hosts of the European public data catalogues in the Dateno registry."""
    text = (_folder("dataportals-registry-europe") / "europe-public-catalogs.jsonl").read_text(
        "utf-8")
    found: dict[str, PortalListing] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        host = host_of(row.get("link"))
        if host and is_host_name(host):
            owner = (row.get("owner") or {}).get("name") or ""
            found.setdefault(host, PortalListing(host, str(row.get("name") or host), owner))
    return found


# -- the registry ---------------------------------------------------------------------------


@dataclass
class RegistryParts:
    listed: dict[str, str] = field(default_factory=dict)
    wildcards: dict[str, str] = field(default_factory=dict)


def _shipped_parts() -> RegistryParts:
    parts = RegistryParts()
    parts.listed.update({host: FR_LIST_LABEL for host in french_public_hosts()})
    exact, wildcards = uk_domains()
    for domain, label in exact.items():
        parts.listed.setdefault(domain, label)
    parts.wildcards.update(wildcards)
    for domain, label in nl_domains().items():
        parts.listed.setdefault(domain, label)
    for inst in eu_institutions():
        for domain in inst.domains:
            parts.listed.setdefault(domain, f"{EU_LIST_LABEL} ({inst.acronym or inst.name})")
    return parts


@functools.cache
def shipped_registry() -> DomainRegistry:
    """The French, UK, Dutch and EU lists in one registry (built once per process)."""
    parts = _shipped_parts()
    return DomainRegistry(parts.listed, parts.wildcards)


def registry_with(extra: dict[str, str]) -> DomainRegistry:
    """The shipped registry plus ``extra`` domains (the operator's), as a new registry."""
    shipped = shipped_registry()
    registry = DomainRegistry(shipped.listed, shipped.wildcards)
    for domain, where in extra.items():
        registry.add(domain, where)
    return registry
