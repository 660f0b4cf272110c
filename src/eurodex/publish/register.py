"""The published register: approved entries with the facts every export needs, in batches.

Exports, DCAT-AP, llms.txt and the sitemap walk the whole register. They read it here in
batches of a few hundred entries, each batch in its own short session and in a fixed number
of statements, so a large register never sits in memory and never holds a long read open
against the verification loops writing checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from eurodex.model import State, Status
from eurodex.store.db import Store
from eurodex.store.history import hour_of
from eurodex.store.tables import (
    CapturedSchemaRow,
    CheckRollup,
    Distribution,
    Entry,
    Institution,
    Score,
)
from eurodex.verify.state import STALE_AFTER

BATCH = 250
UPTIME_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Published:
    """One approved entry as exports show it; read-only, detached from any session."""

    entry: Entry
    institution: Institution | None
    score: Score | None
    state: str  # the state now: VERIFIED turns STALE after 24 h without a success
    uptime_30d: float | None  # percent of decisive checks that succeeded, None without any
    schema: CapturedSchemaRow | None = None
    distributions: list[Distribution] = field(default_factory=list)


def shown_state(entry: Entry, now: datetime) -> str:
    """What the register says of an entry now, as ``repository.current_state`` does."""
    if entry.state == State.VERIFIED.value and (
            entry.last_success_at is None or now - entry.last_success_at > STALE_AFTER):
        return State.STALE.value
    return entry.state


def state_expression(now: datetime):
    """``shown_state`` in SQL, for counting states without loading entries."""
    stale = and_(Entry.state == State.VERIFIED.value,
                 or_(Entry.last_success_at.is_(None), Entry.last_success_at < now - STALE_AFTER))
    return case((stale, State.STALE.value), else_=Entry.state)


def uptimes(session: Session, entry_ids: Sequence[int], now: datetime,
            window: timedelta = UPTIME_WINDOW) -> dict[int, float | None]:
    """Uptime % over ``window`` for many entries in one statement, from the hourly roll-ups."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(CheckRollup.entry_id, func.sum(CheckRollup.decisive),
               func.sum(CheckRollup.successes))
        .where(CheckRollup.entry_id.in_(entry_ids), CheckRollup.hour >= hour_of(now - window))
        .group_by(CheckRollup.entry_id)
    ).all()
    found = {entry_id: (100.0 * (ok or 0) / decisive if decisive else None)
             for entry_id, decisive, ok in rows}
    return {entry_id: found.get(entry_id) for entry_id in entry_ids}


def _batch(session: Session, after: int, size: int, now: datetime,
           with_details: bool) -> list[Published]:
    entries = session.scalars(
        select(Entry).options(joinedload(Entry.institution))
        .where(Entry.status == Status.APPROVED.value, Entry.id > after)
        .order_by(Entry.id).limit(size)
    ).all()
    ids = [e.id for e in entries]
    if not ids:
        return []
    scores = {s.entry_id: s for s in session.scalars(select(Score).where(Score.entry_id.in_(ids)))}
    uptime = uptimes(session, ids, now)
    schemas: dict[int, CapturedSchemaRow] = {}
    distributions: dict[int, list[Distribution]] = {}
    if with_details:
        schemas = {s.entry_id: s for s in session.scalars(
            select(CapturedSchemaRow).where(CapturedSchemaRow.entry_id.in_(ids)))}
        for d in session.scalars(select(Distribution).where(Distribution.entry_id.in_(ids))
                                 .order_by(Distribution.source_id, Distribution.position)):
            distributions.setdefault(d.entry_id, []).append(d)
    return [Published(entry=e, institution=e.institution, score=scores.get(e.id),
                      state=shown_state(e, now), uptime_30d=uptime[e.id],
                      schema=schemas.get(e.id), distributions=distributions.get(e.id, []))
            for e in entries]


def approved_entries(store: Store, now: datetime, *, batch: int = BATCH,
                     with_details: bool = True) -> Iterator[Published]:
    """Every approved entry, by id, read ``batch`` at a time in short sessions.

    ``with_details`` adds captured schemas and distributions (DCAT needs them; the sitemap
    does not). An entry approved or withdrawn while the walk runs is seen or not depending on
    where the walk is, as with any paged read; none is seen twice.
    """
    after = 0
    while True:
        with store.session() as session:
            rows = _batch(session, after, batch, now, with_details)
        if not rows:
            return
        yield from rows
        after = rows[-1].entry.id
