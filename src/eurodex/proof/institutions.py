"""Linking institutions to the domains and GitHub organisations the reference lists give them.

The proofs judge an entry against its institution's ``official_domains`` and ``github_orgs``.
Harvested catalogues rarely carry either, so after each harvest the institutions are linked:

* **curation**: the operator's institutions are upserted as given (source "curation");
* **EU list**: an institution whose slug equals a row of eurodex's EU list, or whose country is
  EU and whose acronym or name equals exactly one row's, gets that row's domains, GitHub
  organisations and homepage (when it has none);
* **homepage**: an institution whose homepage host is on a public-sector list gets that host as
  an official domain (without a leading ``www.``, unless that would leave a public suffix);
* **GitHub**: an organisation of a public-sector list is given to an institution of the same
  country when the organisation's login, lower-cased with only letters and digits kept, and
  optionally without a trailing country code, ``gouv`` or ``gov`` (``InseeFr``), equals the
  institution's acronym or slug written the same way (3 characters at least) - or, for a
  code.gouv.fr account whose login matches no institution that way but whose public body is
  named, when that name equals the institution's.
  Only when exactly one institution of the register matches: a login that two institutions
  could claim is given to neither.

Each link is stored with its provenance (source "eurodex reference lists", method inferred);
an institution's value is the union of what every source gave it.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from unidecode import unidecode

from eurodex.harvest.records import FieldValue, InstitutionRecord
from eurodex.model import ProvenanceMethod
from eurodex.proof.curation import Curation
from eurodex.proof.domains import (
    PUBLIC_SECTOR_SUFFIXES,
    DomainRegistry,
    host_of,
    is_public_suffix,
)
from eurodex.proof.reference import (
    ReferenceInstitution,
    eu_institutions,
    public_sector_github_orgs,
)
from eurodex.store import repository as repo
from eurodex.store.tables import Institution, Provenance, Source

log = logging.getLogger("eurodex.proof")

REFERENCE_SOURCE_SLUG = "eurodex-reference"
CURATION_SOURCE_SLUG = "curation"
LINKED_FIELDS = ("official_domains", "github_orgs")
_SUFFIXES = ("gouv", "gov")


def reference_source(session: Session) -> Source:
    return repo.ensure_source(session, slug=REFERENCE_SOURCE_SLUG, name="eurodex reference lists",
                              format="reference", url=None, trusted=False)


def curation_source(session: Session) -> Source:
    return repo.ensure_source(session, slug=CURATION_SOURCE_SLUG, name="operator curation",
                              format="curation", url=None, trusted=False)


def key_of(text: str | None) -> str:
    """``Insee-Fr`` -> ``inseefr``: letters and digits only, lower-case, accents dropped."""
    return re.sub(r"[^a-z0-9]", "", unidecode(text or "").lower())


def name_key(text: str | None) -> str:
    """A body's name compared without case, accents, punctuation or repeated spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", unidecode(text or "").lower()).split())


def _record(ref: ReferenceInstitution, method: ProvenanceMethod) -> InstitutionRecord:
    fields = {
        "name": FieldValue(ref.name, method),
        "country": FieldValue(ref.country, method),
        "type": FieldValue(ref.type, method),
        "official_domains": FieldValue(list(ref.domains), method),
        "github_orgs": FieldValue(list(ref.github_orgs), method),
    }
    if ref.acronym:
        fields["acronym"] = FieldValue(ref.acronym, method)
    if ref.homepage_url:
        fields["homepage_url"] = FieldValue(ref.homepage_url, method)
    return InstitutionRecord(key=ref.slug, record_url=None, fields=fields)


def apply_curation(session: Session, curation: Curation) -> list[int]:
    """Upsert the operator's institutions; returns their ids."""
    if not curation.institutions:
        return []
    source = curation_source(session)
    ids = []
    for ref in curation.institutions:
        inst, _ = repo.upsert_institution(session, source,
                                          _record(ref, ProvenanceMethod.CURATED))
        ids.append(inst.id)
    return ids


def ensure_reference_institution(session: Session, ref: ReferenceInstitution) -> Institution:
    """The institution for a reference-list row, created when the register lacks it."""
    inst = repo.institution_by_slug(session, ref.slug)
    if inst is None:
        inst, _ = repo.upsert_institution(session, reference_source(session),
                                          _record(ref, ProvenanceMethod.INFERRED))
    return inst


def homepage_domain(inst: Institution, registry: DomainRegistry) -> str | None:
    """The homepage's host when a public-sector list vouches for it (see module docstring)."""
    host = host_of(inst.homepage_url)
    if host is None or registry.match(host) is None:
        return None
    bare = host.removeprefix("www.")
    if bare != host and (bare in PUBLIC_SECTOR_SUFFIXES or is_public_suffix(bare)
                         or "." not in bare):
        return host
    return bare


class _Index:
    """Which institutions of the register each comparison key points at."""

    def __init__(self, institutions: Iterable[Institution]) -> None:
        self.by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.by_name: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.by_slug: dict[str, int] = {}
        for inst in institutions:
            self.by_slug[inst.slug] = inst.id
            for key in {key_of(inst.acronym), key_of(inst.slug)}:
                if len(key) >= 3:
                    self.by_key[(inst.country, key)].add(inst.id)
            if name := name_key(inst.name):
                self.by_name[(inst.country, name)].add(inst.id)

    def login_owner(self, login: str, country: str, owner_name: str | None) -> int | None:
        key = key_of(login)
        keys = {key}
        for suffix in (country.lower(), *_SUFFIXES):
            if key.endswith(suffix) and len(key) - len(suffix) >= 3:
                keys.add(key[: -len(suffix)])
        found: set[int] = set()
        for k in keys:
            found |= self.by_key.get((country, k), set())
        if not found and owner_name:  # the login names its body better than a directory id
            found = self.by_name.get((country, name_key(owner_name)), set())
        return next(iter(found)) if len(found) == 1 else None

    def reference_owner(self, ref: ReferenceInstitution) -> int | None:
        if ref.slug in self.by_slug:
            return self.by_slug[ref.slug]
        found = set(self.by_name.get((ref.country, name_key(ref.name)), set()))
        if ref.acronym and len(key_of(ref.acronym)) >= 3:
            found |= self.by_key.get((ref.country, key_of(ref.acronym)), set())
        return next(iter(found)) if len(found) == 1 else None


def _derived_links(
    institutions: list[Institution], registry: DomainRegistry
) -> tuple[dict[int, dict[str, set[str]]], dict[int, str]]:
    """What the lists give each institution: {id: {field: values}}, and {id: homepage}."""
    index = _Index(institutions)
    links: dict[int, dict[str, set[str]]] = defaultdict(lambda: {f: set() for f in LINKED_FIELDS})
    homepages: dict[int, str] = {}
    for ref in eu_institutions():
        owner = index.reference_owner(ref)
        if owner is not None:
            links[owner]["official_domains"].update(ref.domains)
            links[owner]["github_orgs"].update(ref.github_orgs)
            if ref.homepage_url:
                homepages[owner] = ref.homepage_url
    for listing in public_sector_github_orgs().values():
        if listing.country is None:
            continue
        owner = index.login_owner(listing.login, listing.country, listing.owner_name)
        if owner is not None:
            links[owner]["github_orgs"].add(listing.login)
    for inst in institutions:
        if domain := homepage_domain(inst, registry):
            links[inst.id]["official_domains"].add(domain)
    return links, homepages


def _values_by_institution(session: Session, field: str) -> dict[int, set[str]]:
    """Every source's value of ``field`` for every institution, merged: one query."""
    merged: dict[int, set[str]] = defaultdict(set)
    for subject_id, value in session.execute(
        select(Provenance.subject_id, Provenance.value)
        .where(Provenance.subject == "institution", Provenance.field == field)
    ):
        if isinstance(value, list):
            merged[subject_id].update(str(v).lower() for v in value)
    return merged


def link_institutions(
    session: Session, registry: DomainRegistry, only: Iterable[int] | None = None
) -> set[int]:
    """Link institutions (all, or the ids in ``only``); returns the ids whose links changed."""
    institutions = list(session.scalars(select(Institution)))
    wanted = set(only) if only is not None else None
    derived, homepages = _derived_links(institutions, registry)
    given = {field: _values_by_institution(session, field) for field in LINKED_FIELDS}
    source = reference_source(session)
    changed: set[int] = set()
    now = repo.now_utc()
    for inst in institutions:
        if wanted is not None and inst.id not in wanted:
            continue
        found_links = derived.get(inst.id, {})
        if not inst.homepage_url and inst.id in homepages:
            inst.homepage_url = homepages[inst.id]
            repo.record_institution_field(session, inst, "homepage_url",
                                          FieldValue(inst.homepage_url,
                                                     ProvenanceMethod.INFERRED),
                                          source, now=now)
            changed.add(inst.id)
        for field in LINKED_FIELDS:
            found = sorted(found_links.get(field, set()))
            if found and not set(found) <= given[field].get(inst.id, set()):
                repo.record_institution_field(session, inst, field,
                                              FieldValue(found, ProvenanceMethod.INFERRED),
                                              source, now=now)
                given[field][inst.id].update(found)
            if inst.id not in given[field]:
                continue  # no source says anything of this field: leave it as it is
            merged = sorted(given[field][inst.id])
            if sorted(getattr(inst, field) or []) != merged:
                setattr(inst, field, merged)
                changed.add(inst.id)
        if inst.id in changed:
            inst.updated_at = now
    if changed:
        log.info("linked %d institutions to reference domains or GitHub organisations",
                 len(changed))
    return changed
