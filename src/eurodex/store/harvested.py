"""What a harvest stores besides the entry's fields: listing, distributions, licence, key.

Called by the pipeline for every candidate after ``repository.upsert_entry``; each step is
in the caller's transaction, so a record is stored whole or not at all. An entry created in
this transaction (``fresh``) has no listing, distributions or other source yet: the steps
skip looking for them, which is most of the cost of harvesting a large new catalogue.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from eurodex.harvest.records import Candidate
from eurodex.model import Kind
from eurodex.score.licences import normalise_licence
from eurodex.store import listings, merge
from eurodex.store.distributions import save_distributions, stored_url
from eurodex.store.tables import Entry, Source


def store_harvested_facts(session: Session, entry: Entry, candidate: Candidate,
                          source: Source, run_id: int | None, now, *,
                          fresh: bool = False) -> bool:
    """Listing, distributions, normalised licence and URL key; True when anything changed."""
    changed = listings.touch_listing(session, entry, source, candidate, run_id, now,
                                     fresh=fresh)
    if candidate.kind is Kind.DATASET or candidate.distributions:
        changed = save_distributions(session, entry, source, candidate.distributions,
                                     fresh=fresh) or changed
        if not fresh:
            session.flush()
    licence = normalise_licence(entry.licence)
    licence_id = licence.id if licence else None
    category = licence.category if licence else None
    if (entry.licence_id, entry.licence_category) != (licence_id, category):
        entry.licence_id, entry.licence_category = licence_id, category
        changed = True
    before = entry.url_key
    first = stored_url(candidate.distributions[0].url) if candidate.distributions else None
    merge.refresh_url_key(session, entry, first_distribution=first if fresh else ...)
    return changed or entry.url_key != before


def apply_source_status(session: Session, entry: Entry, candidate: Candidate,
                        source: Source) -> str | None:
    """A source that marks a record retired retires the entry (after admission ran).

    Returns the source's id of the replacement when it is not stored yet, so the caller
    can resolve it once the harvest has read the whole source.
    """
    pending = None
    if candidate.replaced_by and not listings.resolve_replacement(
            session, entry, source, candidate.replaced_by):
        pending = candidate.replaced_by
    if candidate.extras.get("retired"):
        if entry.id is None:  # a new entry of a harvest batch: its event needs the id
            session.flush()
        listings.retire(session, entry, f"marked retired by {source.name}")
    return pending
