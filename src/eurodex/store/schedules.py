"""The persisted state of the rolling loops: one row per entry and loop, with its due time.

Advancing a schedule is a compare-and-set on the due time that was read: it succeeds in the
transaction that stores the check, or not at all. A process killed mid-round therefore
leaves every entry either checked and advanced, or unchecked and still due; and two runners
that picked the same entry cannot both store a check for the same turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from eurodex.model import Status
from eurodex.store.tables import Entry, Schedule
from eurodex.verify.cadence import Loop, first_due, loop_kinds, next_due

# Entries the loops check: published ones and those waiting for a curator (whose review
# needs to know whether they work). Rejected and retired entries are left alone; their
# schedule rows stay, so an entry that comes back resumes in its own phase.
CHECKED_STATUSES = (Status.APPROVED.value, Status.QUARANTINED.value)


@dataclass(frozen=True)
class DueItem:
    schedule_id: int
    entry_id: int
    due_at: datetime


def ensure_schedules(
    session: Session, now: datetime, periods: dict[Loop, timedelta]
) -> int:
    """Give every entry a schedule in each loop that covers its kind; returns how many.

    Run before every round and tick, so an entry created by any harvester, submission or
    script is picked up without the writer knowing about the loops.
    """
    created = 0
    for loop, period in periods.items():
        has_row = exists().where(Schedule.entry_id == Entry.id, Schedule.loop == loop.value)
        missing = select(Entry.id).where(
            ~has_row, Entry.kind.in_([k.value for k in loop_kinds(loop)])
        ).order_by(Entry.id)
        for entry_id in session.scalars(missing).all():
            session.add(Schedule(entry_id=entry_id, loop=loop.value,
                                 next_due_at=first_due(entry_id, loop, now, period)))
            created += 1
    return created


def due(session: Session, loop: Loop, now: datetime, limit: int | None = None) -> list[DueItem]:
    """Schedules of ``loop`` due at ``now``, most overdue first."""
    query = (
        select(Schedule.id, Schedule.entry_id, Schedule.next_due_at)
        .join(Entry, Entry.id == Schedule.entry_id)
        .where(Schedule.loop == Loop(loop).value, Schedule.next_due_at <= now,
               Entry.status.in_(CHECKED_STATUSES))
        .order_by(Schedule.next_due_at, Schedule.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [DueItem(*row) for row in session.execute(query).all()]


def count_due(session: Session, loop: Loop, now: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(Schedule).join(Entry, Entry.id == Schedule.entry_id)
        .where(Schedule.loop == Loop(loop).value, Schedule.next_due_at <= now,
               Entry.status.in_(CHECKED_STATUSES))
    ) or 0


def advance(
    session: Session, item: DueItem, now: datetime, period: timedelta
) -> bool:
    """Move ``item`` to its next turn, unless another runner already did; True when moved."""
    result = session.execute(
        update(Schedule)
        .where(Schedule.id == item.schedule_id, Schedule.next_due_at == item.due_at)
        .values(next_due_at=next_due(item.due_at, now, period), last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def advance_if_due(
    session: Session, entry_id: int, loop: Loop, now: datetime, period: timedelta
) -> bool:
    """Advance an entry's turn in ``loop`` when it is due: a full verification includes the
    uptime probe, so a probe falling due at the same time is not sent twice."""
    row = session.scalar(select(Schedule).where(
        Schedule.entry_id == entry_id, Schedule.loop == Loop(loop).value,
        Schedule.next_due_at <= now))
    if row is None:
        return False
    return advance(session, DueItem(row.id, entry_id, row.next_due_at), now, period)


def schedule_of(session: Session, entry_id: int, loop: Loop) -> Schedule | None:
    return session.scalar(select(Schedule).where(
        Schedule.entry_id == entry_id, Schedule.loop == Loop(loop).value))
