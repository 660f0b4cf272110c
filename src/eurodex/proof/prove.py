"""The proofs that can be decided from stored facts alone: domain, portal backlink, GitHub org.

The reciprocal-link and policy-page proofs need the entry's pages fetched; until a full
verification has fetched them they are recorded as not held, saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from eurodex.model import Kind, ProofName, ProofResult
from eurodex.proof.domains import DomainRegistry, host_of


@dataclass
class ProofSubject:
    """What the proofs look at for one entry."""

    kind: Kind
    base_url: str | None
    spec_url: str | None
    homepage_url: str | None
    landing_page: str | None = None
    first_distribution_url: str | None = None
    docs_url: str | None = None
    institution_name: str | None = None
    institution_homepage: str | None = None
    institution_domains: list[str] = field(default_factory=list)
    institution_github_orgs: list[str] = field(default_factory=list)
    first_source_name: str = ""
    # Names of the other official portals that list the same URL.
    other_listing_sources: list[str] = field(default_factory=list)


def primary_url(subject: ProofSubject) -> str | None:
    """The URL whose host the domain proof judges (methodology 2).

    An API is judged by its base URL; when a catalogue declares none, by its spec URL, then
    its own site. A dataset by its landing page, else its first distribution.
    """
    if subject.kind is Kind.API:
        candidates = (subject.base_url, subject.spec_url, subject.homepage_url)
    else:
        candidates = (subject.landing_page, subject.first_distribution_url)
    return next((url for url in candidates if host_of(url)), None)


def prove_domain(subject: ProofSubject, registry: DomainRegistry, now: datetime) -> ProofResult:
    url = primary_url(subject)
    host = host_of(url)
    if host is None:
        return ProofResult(ProofName.DOMAIN, False, "primary host", None,
                           "no URL to judge: the entry declares no base URL or site", now)
    found = registry.match(host, subject.institution_domains)
    if found is None:
        return ProofResult(ProofName.DOMAIN, False, f"host {host}", url,
                           f"host {host} is not under any known official domain", now)
    return ProofResult(ProofName.DOMAIN, True, f"host {host}", url,
                       found.sentence(subject.institution_name), now)


def prove_portal_backlink(subject: ProofSubject, now: datetime) -> ProofResult:
    others = [s for s in subject.other_listing_sources if s != subject.first_source_name]
    url = primary_url(subject)
    if others:
        return ProofResult(ProofName.PORTAL_BACKLINK, True, "other official portals", url,
                           f"also listed by {', '.join(sorted(others))}", now)
    return ProofResult(ProofName.PORTAL_BACKLINK, False, "other official portals", url,
                       f"listed only by {subject.first_source_name}", now)


def github_org_of(url: str | None) -> str | None:
    """The organisation of a github.com or raw.githubusercontent.com URL, lower-cased."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in ("github.com", "www.github.com", "raw.githubusercontent.com"):
        return None
    segments = [s for s in parts.path.split("/") if s]
    return segments[0].lower() if segments else None


def prove_github_org(subject: ProofSubject, now: datetime) -> ProofResult:
    orgs = {o.lower() for o in subject.institution_github_orgs}
    for url in (subject.spec_url, subject.homepage_url):
        org = github_org_of(url)
        if org is None:
            continue
        if org in orgs:
            return ProofResult(ProofName.GITHUB_ORG, True, f"GitHub organisation {org}", url,
                               f"{url} lies under {org}, a GitHub organisation of "
                               f"{subject.institution_name}", now)
        return ProofResult(ProofName.GITHUB_ORG, False, f"GitHub organisation {org}", url,
                           f"GitHub organisation {org} is not known to belong to "
                           f"{subject.institution_name or 'the institution'}", now)
    return ProofResult(ProofName.GITHUB_ORG, False, "spec or repository URL", subject.spec_url,
                       "no spec or repository URL on GitHub", now)


def not_yet_fetched(name: ProofName, page: str | None, now: datetime) -> ProofResult:
    what = "homepage or docs page" if name is ProofName.RECIPROCAL_LINK else "homepage"
    return ProofResult(name, False, what, page,
                       f"not yet proven: the {what} has not been fetched by a full verification",
                       now)


def prove_offline(
    subject: ProofSubject, registry: DomainRegistry, now: datetime
) -> list[ProofResult]:
    """All five proofs, as far as stored facts decide them, in the methodology's order."""
    return [
        prove_domain(subject, registry, now),
        prove_portal_backlink(subject, now),
        prove_github_org(subject, now),
        not_yet_fetched(ProofName.RECIPROCAL_LINK, subject.homepage_url, now),
        not_yet_fetched(ProofName.POLICY_PAGE, subject.homepage_url, now),
    ]


def total_points(proofs: Iterable[ProofResult]) -> int:
    return min(100, sum(p.points for p in proofs))
