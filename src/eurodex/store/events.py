"""Events: what happened to an entry and when, the raw material of feeds.

An event is written in the same transaction as the change it reports, so a feed never
announces a change the register does not hold, nor misses one it does.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.store.tables import Event


class EventKind(enum.StrEnum):
    STATE_CHANGE = "state_change"  # detail: from, to, and the check or rule that moved it
    SCHEMA_CHANGE = "schema_change"  # detail: added, removed (field names), source
    NEW_ENTRY = "new_entry"  # detail: slug, name, kind
    RETIRED = "retired"  # detail: reason


def record_event(
    session: Session, entry_id: int, kind: EventKind, detail: dict | None = None,
    at: datetime | None = None,
) -> Event:
    event = Event(entry_id=entry_id, kind=EventKind(kind).value, detail=detail or {},
                  at=at or datetime.now(UTC))
    session.add(event)
    return event


def events_since(
    session: Session, since: datetime, *, kinds: Sequence[EventKind] | None = None,
    limit: int = 500,
) -> Sequence[Event]:
    """Events at or after ``since``, newest first."""
    query = select(Event).where(Event.at >= since)
    if kinds:
        query = query.where(Event.kind.in_([EventKind(k).value for k in kinds]))
    return session.scalars(query.order_by(Event.at.desc(), Event.id.desc()).limit(limit)).all()


def events_for(session: Session, entry_id: int, *, limit: int = 50) -> Sequence[Event]:
    """One entry's events, newest first."""
    return session.scalars(
        select(Event).where(Event.entry_id == entry_id)
        .order_by(Event.at.desc(), Event.id.desc()).limit(limit)
    ).all()
