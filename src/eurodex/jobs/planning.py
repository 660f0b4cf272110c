"""Handing verification turns to jobs under a lease (``schedules.leased_until``).

In-process, a tick selects what is due and checks it at once, so nothing is handed out
twice. Through a queue there is a gap: a turn handed to a job waits, then runs, on some
worker; the next planning round must not hand it out again meanwhile. So the planner leases
each turn it hands out until ``now + lease_for``, and skips leased turns; a job that is lost
(its worker gone and the job never retried) holds its turns only until the lease expires,
then they are handed out again.

The lease time doubles as the job's token: every turn of a batch carries the same
``leased_until``, and a job only checks and stores a turn while the row still holds that
exact value. A job retried after its worker died finds its turns still leased to it; a job
that ran so late that its turns were handed to another job finds another value and leaves
them alone. Storing a turn clears its lease in the same transaction as the schedule
advance (``release``), so the lease holder is the only runner that can store it.

An entry has at most one leased turn at a time: a full verification includes the probe, so
a probe is not handed out while the entry's full turn is out, and the other way round. Two
workers therefore never check the same entry's URL at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from eurodex.store.schedules import CHECKED_STATUSES, DueItem
from eurodex.store.tables import Entry, Schedule
from eurodex.verify.cadence import Loop

# Long enough for a batch to wait behind a busy queue and run (a check is bounded by its
# 30 s timeout and a host's back-off wait); short enough that a lost job's turns come back
# within a probe period.
LEASE_FOR = timedelta(minutes=10)
# Turns per verify job: small enough that two workers share a round, large enough that the
# queue's cost per job is spread over many checks.
BATCH_SIZE = 50


@dataclass(frozen=True)
class Batch:
    """Turns of one loop leased together until ``leased_until``: one verify job."""

    loop: Loop
    leased_until: datetime
    turns: tuple[DueItem, ...]

    def to_args(self) -> dict:
        return {"loop": self.loop.value, "leased_until": self.leased_until.isoformat(),
                "turns": [[t.schedule_id, t.entry_id, t.due_at.isoformat()]
                          for t in self.turns]}

    @classmethod
    def from_args(cls, args: dict) -> Batch:
        return cls(Loop(args["loop"]), datetime.fromisoformat(args["leased_until"]),
                   tuple(DueItem(int(s), int(e), datetime.fromisoformat(d))
                         for s, e, d in args["turns"]))


def lease_due(
    session: Session, loop: Loop, now: datetime, *, limit: int | None,
    lease_for: timedelta = LEASE_FOR,
) -> tuple[datetime, list[DueItem]]:
    """Lease the turns of ``loop`` due at ``now`` and not leased (at most ``limit``, most
    overdue first); returns the lease's end, which is also its token, and the turns."""
    until = now + lease_for
    other = aliased(Schedule)
    entry_busy = exists().where(other.entry_id == Schedule.entry_id, other.id != Schedule.id,
                                other.leased_until > now)
    free = (
        select(Schedule.id)
        .join(Entry, Entry.id == Schedule.entry_id)
        .where(Schedule.loop == Loop(loop).value, Schedule.next_due_at <= now,
               Entry.status.in_(CHECKED_STATUSES),
               or_(Schedule.leased_until.is_(None), Schedule.leased_until <= now),
               ~entry_busy)
        .order_by(Schedule.next_due_at, Schedule.id)
        .limit(limit)
        # Two planners at once (a planning job retried while another runs) skip each other's
        # rows instead of leasing them twice; SQLite has one writer and ignores this.
        .with_for_update(of=Schedule, skip_locked=True)
    )
    rows = session.execute(
        update(Schedule).where(Schedule.id.in_(free.scalar_subquery()))
        .values(leased_until=until)
        .returning(Schedule.id, Schedule.entry_id, Schedule.next_due_at)
        .execution_options(synchronize_session=False)
    ).all()
    items = sorted((DueItem(*row) for row in rows), key=lambda i: (i.due_at, i.schedule_id))
    return until, items


def batches(loop: Loop, until: datetime, items: Sequence[DueItem],
            size: int = BATCH_SIZE) -> Iterator[Batch]:
    for start in range(0, len(items), size):
        yield Batch(loop, until, tuple(items[start:start + size]))


def held(session: Session, batch: Batch) -> list[DueItem]:
    """The batch's turns still leased to it and still at the due time it was given."""
    ids = [t.schedule_id for t in batch.turns]
    current = dict(session.execute(
        select(Schedule.id, Schedule.next_due_at)
        .where(Schedule.id.in_(ids), Schedule.leased_until == batch.leased_until)).all())
    return [t for t in batch.turns if current.get(t.schedule_id) == t.due_at]


def release(session: Session, item: DueItem, leased_until: datetime) -> bool:
    """End the lease on ``item`` if the caller still holds it; True when it did."""
    result = session.execute(
        update(Schedule)
        .where(Schedule.id == item.schedule_id, Schedule.leased_until == leased_until)
        .values(leased_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_all(session: Session, batch: Batch, items: Sequence[DueItem]) -> int:
    """Give back turns a job will not run, so the next planning round hands them out."""
    if not items:
        return 0
    result = session.execute(
        update(Schedule)
        .where(Schedule.id.in_([i.schedule_id for i in items]),
               Schedule.leased_until == batch.leased_until)
        .values(leased_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def leased_count(session: Session, loop: Loop, now: datetime) -> int:
    """Turns of ``loop`` out with a job at ``now``."""
    return session.scalar(select(func.count()).select_from(Schedule).where(
        Schedule.loop == Loop(loop).value, Schedule.leased_until > now)) or 0
