"""Which sources list an entry, and retiring an entry no source lists any more.

A harvest that ends ``ok`` (every record read, no page failed) is a complete picture of its
source: a listing it did not see has missed one harvest. A partial or failed harvest counts
nothing and changes nothing, so an outage of a portal never retires its entries. An entry
whose every listing has missed ``RETIRE_AFTER`` harvests in a row is RETIRED; nothing is
deleted, and a later harvest that lists it again brings it back through admission.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eurodex.harvest.records import Candidate
from eurodex.model import Status
from eurodex.store.events import EventKind, record_event
from eurodex.store.pending import add_row
from eurodex.store.tables import Entry, Event, Listing, Source

RETIRE_AFTER = 3


def touch_listing(session: Session, entry: Entry, source: Source, candidate: Candidate,
                  run_id: int | None, now: datetime, *, fresh: bool = False) -> bool:
    """Record that ``source`` lists ``entry`` as ``candidate.record_id`` in this run.

    True when the listing is new (a source lists the entry for the first time). A ``fresh``
    entry was created because no listing of this record exists, so none is looked for.
    """
    entry.missed_harvests = 0
    if fresh:  # written with the batch (store.pending)
        add_row(session, Listing, {
            "entry_id": entry, "source_id": source.id, "record_id": candidate.record_id,
            "record_url": candidate.record_url, "first_seen_at": now, "last_seen_at": now,
            "last_seen_run_id": run_id, "missed_harvests": 0})
        return True
    listing = session.scalar(
        select(Listing).where(Listing.source_id == source.id,
                              Listing.record_id == candidate.record_id))
    new = listing is None
    if listing is None:
        listing = Listing(entry_id=entry.id, source_id=source.id,
                          record_id=candidate.record_id, record_url=candidate.record_url,
                          first_seen_at=now, last_seen_at=now, missed_harvests=0)
        session.add(listing)
    listing.entry_id = entry.id
    listing.record_url = candidate.record_url
    listing.last_seen_at = now
    listing.last_seen_run_id = run_id
    listing.missed_harvests = 0
    return new


def resolve_replacement(session: Session, entry: Entry, source: Source,
                        replaced_by: str) -> bool:
    """Point ``entry`` at the entry ``source`` knows as ``replaced_by``; False if unknown."""
    target = session.scalar(select(Listing.entry_id).where(Listing.source_id == source.id,
                                                           Listing.record_id == replaced_by))
    if target is None or target == entry.id:
        return False
    entry.replaced_by_id = target
    return True


def retire(session: Session, entry: Entry, reason: str) -> None:
    """Retire the entry, announcing it with a ``retired`` event (feeds) once.

    A source that keeps listing a record as retired has the entry re-admitted and retired
    again within every harvest's transaction; only the first retirement is news, so none is
    recorded while the entry's latest event already is one.
    """
    latest = session.scalar(select(Event.kind).where(Event.entry_id == entry.id)
                            .order_by(Event.at.desc(), Event.id.desc()).limit(1))
    if latest != EventKind.RETIRED.value:
        record_event(session, entry.id, EventKind.RETIRED,
                     {"reason": reason, "from_status": entry.status})
    entry.status = Status.RETIRED.value
    entry.status_reason = reason


def count_misses(session: Session, source: Source, run_id: int) -> list[int]:
    """After an ``ok`` run: count a miss for every listing it did not see; retire entries.

    Returns the ids of the entries retired now.
    """
    session.execute(
        update(Listing).where(Listing.source_id == source.id,
                              (Listing.last_seen_run_id != run_id)
                              | Listing.last_seen_run_id.is_(None))
        .values(missed_harvests=Listing.missed_harvests + 1))
    missed = select(Listing.entry_id).where(Listing.source_id == source.id,
                                            Listing.missed_harvests > 0)
    retired = []
    rows = session.execute(
        select(Entry, func.min(Listing.missed_harvests))
        .join(Listing, Listing.entry_id == Entry.id)
        .where(Entry.id.in_(missed)).group_by(Entry.id)).all()
    for entry, fewest in rows:
        entry.missed_harvests = fewest
        if fewest >= RETIRE_AFTER and entry.status != Status.RETIRED.value:
            names = sorted(session.scalars(
                select(Source.name).join(Listing, Listing.source_id == Source.id)
                .where(Listing.entry_id == entry.id)))
            retire(session, entry, f"absent from the last {fewest} successful harvests of "
                                   f"every source that listed it ({', '.join(names)})")
            retired.append(entry.id)
    return retired
