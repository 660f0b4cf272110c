"""STALE without a check: an entry nobody could verify for 24 hours must say so.

A check moves an entry's state when it lands, but staleness is the absence of checks (a
stopped scheduler, a host in back-off, an entry with nothing to probe), so no check will
ever arrive to announce it. The scheduler calls :func:`mark_stale` on every tick; pages and
the API also show the effective state (``repository.current_state``) in between.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from eurodex.model import State
from eurodex.store.events import EventKind, record_event
from eurodex.store.tables import Entry, Score
from eurodex.verify.state import STALE_AFTER

log = logging.getLogger("eurodex.verify")


def mark_stale(session: Session, now: datetime) -> list[int]:
    """Turn VERIFIED entries whose last success is older than 24 h STALE; returns their ids.

    Each change is announced by a state_change event in the same transaction.
    """
    cutoff = now - STALE_AFTER
    entries = session.scalars(
        select(Entry).where(
            Entry.state == State.VERIFIED.value,
            or_(Entry.last_success_at.is_(None), Entry.last_success_at < cutoff),
        )
    ).all()
    for entry in entries:
        entry.state = State.STALE.value
        last = entry.last_success_at.isoformat() if entry.last_success_at else None
        record_event(session, entry.id, EventKind.STATE_CHANGE, {
            "from": State.VERIFIED.value, "to": State.STALE.value,
            "rule": "no successful check in the last 24 hours", "last_success_at": last,
        }, at=now)
    if entries:
        log.info("%d entries turned stale", len(entries))
    return [e.id for e in entries]


def scores_behind_checks(session: Session) -> list[int]:
    """Entries with a check stored after their score was computed; their ids.

    A round re-scores what it checked when it ends, so a round killed before then leaves
    checks whose availability no score reflects yet. Each round starts by picking them up,
    so the score catches up at the next round rather than at the entry's next check (up to
    6 hours later for a dataset).
    """
    return list(session.scalars(
        select(Entry.id).join(Score, Score.entry_id == Entry.id)
        .where(Entry.last_check_at.is_not(None), Entry.last_check_at > Score.computed_at)
        .order_by(Entry.id)))

