"""Proving one stored entry and deciding its admission (methodology 2 and 3).

The offline proofs (domain, portal backlink, GitHub organisation) are recomputed from stored
facts whenever an entry is harvested; the reciprocal-link and policy proofs are only changed by
a fetch (``proof.fetched``), so a harvest keeps what the last fetch found. Admission is then
decided from the stored proofs, the source, the operator's curation and the blocklist:

* a curator's decision stands (its reason starts with "curator"), except that a blocklisted
  host is rejected whatever was decided: the blocklist is the operator's "never list this";
* otherwise the rules of :func:`eurodex.proof.admission.admit`, in the methodology's order.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.harvest.records import Candidate
from eurodex.model import Kind, ProofName, ProofResult, Status
from eurodex.proof.admission import Admission, admit
from eurodex.proof.curation import SUBMISSIONS_SOURCE, Curation
from eurodex.proof.domains import DomainRegistry, host_of, is_shared_hosting, parents
from eurodex.proof.prove import ProofSubject, primary_url, prove_offline, total_points
from eurodex.proof.reference import known_portals, registry_with, shipped_registry
from eurodex.store import repository as repo
from eurodex.store.distributions import first_distribution_url, stored_url
from eurodex.store.tables import Entry, Provenance, Source

FETCHED_PROOFS = (ProofName.RECIPROCAL_LINK, ProofName.POLICY_PAGE)
CURATOR_PREFIX = "curator "


def is_official_portal(source: Source, registry: DomainRegistry, curation: Curation) -> bool:
    """Whether a listing by ``source`` corroborates an entry (the portal backlink proof).

    A known official portal is a trusted source, or a catalogue whose own site is on a
    public-sector domain or in the registry of European public data portals. Public
    submissions never corroborate anything.
    """
    if source.slug == SUBMISSIONS_SOURCE:
        return False
    if source.trusted or curation.is_trusted(source.slug):
        return True
    host = host_of(source.url)
    if host is None:
        return False
    portals = known_portals()
    if any(p in portals for p in parents(host)) and not is_shared_hosting(host):
        return True
    return registry.match(host) is not None


def official_listings(
    session: Session, entry: Entry, registry: DomainRegistry, curation: Curation
) -> list[str]:
    """Names of the official portals, other than the first source, that gave this entry a value."""
    sources = session.scalars(
        select(Source).join(Provenance, Provenance.source_id == Source.id)
        .where(Provenance.subject == "entry", Provenance.subject_id == entry.id,
               Provenance.source_id != entry.source_id)
        .distinct()
    ).all()
    return sorted(s.name for s in sources if is_official_portal(s, registry, curation))


def subject_for(
    session: Session, entry: Entry, registry: DomainRegistry, curation: Curation,
    *, created_from: Candidate | None = None,
) -> ProofSubject:
    """What the proofs judge about ``entry``.

    ``created_from``: the record the entry was created from in this transaction. Such an
    entry has only that record's distributions and no other source yet, so neither is read
    back from the database.
    """
    inst = entry.institution
    kind = Kind(entry.kind)
    fresh = created_from is not None
    if kind is not Kind.DATASET:
        first_distribution = None
    elif fresh:
        first_distribution = (stored_url(created_from.distributions[0].url)
                              if created_from.distributions else None)
    else:
        first_distribution = first_distribution_url(session, entry.id)
    return ProofSubject(
        kind=kind,
        base_url=entry.base_url,
        spec_url=entry.spec_url,
        homepage_url=entry.homepage_url,
        landing_page=(entry.landing_page or entry.homepage_url) if kind is Kind.DATASET
        else None,
        first_distribution_url=first_distribution,
        docs_url=entry.docs_url,
        institution_name=(inst.acronym or inst.name) if inst else None,
        institution_homepage=inst.homepage_url if inst else None,
        institution_domains=list(inst.official_domains or []) if inst else [],
        institution_github_orgs=list(inst.github_orgs or []) if inst else [],
        first_source_name=entry.source.name,
        other_listing_sources=[] if fresh else official_listings(session, entry, registry,
                                                                  curation),
    )


def _with_fetched(
    session: Session, entry: Entry, subject: ProofSubject, proofs: list[ProofResult],
    *, fresh: bool = False,
) -> list[ProofResult]:
    """Keep what the last fetch proved, as long as it judged one of the entry's own pages."""
    if fresh:  # nothing was ever fetched for an entry created in this transaction
        return proofs
    stored = {p.name: p for p in repo.proofs_for(session, entry.id)}
    pages = {subject.homepage_url, subject.docs_url} - {None}
    kept = []
    for proof in proofs:
        before = stored.get(proof.name)
        if proof.name in FETCHED_PROOFS and before is not None and before.url in pages:
            kept.append(before)
        else:
            kept.append(proof)
    return kept


def is_curator_decision(entry: Entry) -> bool:
    return entry.status in (Status.APPROVED, Status.REJECTED) and (
        entry.status_reason or "").startswith(CURATOR_PREFIX)


def readmit(
    entry: Entry, subject: ProofSubject, proofs: list[ProofResult], curation: Curation
) -> Admission:
    """Decide admission from ``proofs`` and store it on the entry (see module docstring)."""
    source = entry.source
    host = host_of(primary_url(subject))
    blocked = host if curation.blocked(host) else None
    decision = admit(
        officialness=total_points(proofs),
        has_institution=entry.institution is not None,
        source_name=source.name,
        source_trusted=source.slug != SUBMISSIONS_SOURCE and (
            source.trusted or curation.is_trusted(source.slug)),
        blocklisted_host=blocked,
    )
    if is_curator_decision(entry) and not blocked:
        return Admission(Status(entry.status), entry.status_reason)
    entry.status, entry.status_reason = decision.status.value, decision.reason
    return decision


def prove_and_admit(
    session: Session, entry: Entry, registry: DomainRegistry, curation: Curation,
    *, created_from: Candidate | None = None,
) -> Admission:
    """Recompute the offline proofs, keep the fetched ones, store them and decide admission.

    ``created_from``: see :func:`subject_for`; such an entry has no stored proofs either.
    """
    fresh = created_from is not None
    subject = subject_for(session, entry, registry, curation, created_from=created_from)
    proofs = _with_fetched(session, entry, subject,
                           prove_offline(subject, registry, repo.now_utc()), fresh=fresh)
    repo.save_proofs(session, entry, proofs, fresh=fresh)
    return readmit(entry, subject, proofs, curation)


def registry_for(curation: Curation) -> DomainRegistry:
    """The shipped public-sector lists, plus the operator's domains when there are any."""
    extra = curation.domain_labels()
    return registry_with(extra) if extra else shipped_registry()
