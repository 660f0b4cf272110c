"""One verify job: the leased turns of a batch, checked and stored as a tick stores them.

Each turn is stored as in the in-process loops (``verify.commit``: check, roll-up, state,
events and schedule advance in one transaction), with one more condition in that
transaction: the turn must still be leased to this batch (``planning.release``). A job that
lost its lease stores nothing, so a turn is stored once however late or often its job runs.

A job stops starting checks shortly before its lease ends, so no check is still running
when the planner may hand the turn to another job; the turns it did not start, and those
that failed, are given back for the next planning round.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.jobs import planning
from eurodex.jobs.planning import Batch
from eurodex.settings import Settings
from eurodex.store import schedules
from eurodex.store.db import Store
from eurodex.store.schedules import DueItem
from eurodex.store.tables import Entry
from eurodex.verify.cadence import Loop
from eurodex.verify.check import Checker
from eurodex.verify.commit import TurnTaken, store_outcome
from eurodex.verify.full import full_verify
from eurodex.verify.round import probe_url
from eurodex.verify.scheduler import DueReport, periods

log = logging.getLogger("eurodex.jobs")

# A check that starts this long before the lease ends still finishes inside it: its 30 s
# timeout, plus a host's connection slot or Retry-After wait (at most 120 s).
STOP_BEFORE_LEASE_END = timedelta(minutes=3)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Turn:
    item: DueItem
    slug: str
    url: str | None


def _turns(store: Store, batch: Batch) -> list[_Turn]:
    with store.session() as session:
        items = planning.held(session, batch)
        entries = {e.id: e for e in session.scalars(
            select(Entry).where(Entry.id.in_([i.entry_id for i in items])))}
        return [_Turn(i, entries[i.entry_id].slug, probe_url(entries[i.entry_id]))
                for i in items if i.entry_id in entries]


def _give_back(store: Store, batch: Batch, items: list[DueItem]) -> int:
    with store.session() as session:
        return planning.release_all(session, batch, items)


async def run_batch(
    store: Store, settings: Settings, checker: Checker, batch: Batch, *,
    concurrency: int = 32, stop_before_end: timedelta = STOP_BEFORE_LEASE_END,
) -> DueReport:
    """Check and store every turn of ``batch`` still leased to it."""
    now = _now()
    turns = await asyncio.to_thread(_turns, store, batch)
    report = DueReport(batch.loop, due=len(turns))
    report.taken = len(batch.turns) - len(turns)  # stored, or handed out again, meanwhile
    stop_at = batch.leased_until - stop_before_end
    every = periods(settings)
    given_back: list[DueItem] = []
    finished: set[int] = set()  # schedule ids stored, taken elsewhere or given back
    pending = iter(turns)

    async def worker() -> None:
        for turn in pending:
            if _now() >= stop_at:
                given_back.append(turn.item)
                finished.add(turn.item.schedule_id)
                continue
            try:
                if batch.loop is Loop.FULL:
                    await _full_turn(store, batch, turn, checker, now, every, report)
                else:
                    await _probe_turn(store, batch, turn, checker, now, every[Loop.PROBE],
                                      report)
            except TurnTaken:
                report.taken += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # given back and retried next round; the others go on
                report.failed.append(turn.slug)
                given_back.append(turn.item)
                log.warning("%s: %s turn failed", turn.slug, batch.loop, exc_info=True)
            finished.add(turn.item.schedule_id)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(turns))))))
    except asyncio.CancelledError:
        # A worker shutting down: what was not stored goes back at once, not when the
        # lease ends. A store still committing in its thread wins or loses on the lease,
        # so a turn is never both given back and stored.
        _give_back(store, batch, [t.item for t in turns
                                  if t.item.schedule_id not in finished])
        raise
    if given_back:
        await asyncio.to_thread(_give_back, store, batch, given_back)
        log.info("%s batch: gave back %d turns for the next round", batch.loop,
                 len(given_back))
    return report


async def _probe_turn(
    store: Store, batch: Batch, turn: _Turn, checker: Checker, now: datetime,
    period: timedelta, report: DueReport,
) -> None:
    result = await checker.check(turn.url) if turn.url else None

    def advance(session: Session) -> bool:
        return (planning.release(session, turn.item, batch.leased_until)
                and schedules.advance(session, turn.item, max(now, _now()), period))

    await asyncio.to_thread(store_outcome, store, turn.item.entry_id, result, also=advance)
    report.stored_turn(turn.item.entry_id, turn.slug, result.outcome.value if result else None)


async def _full_turn(
    store: Store, batch: Batch, turn: _Turn, checker: Checker, now: datetime,
    every: dict[Loop, timedelta], report: DueReport,
) -> None:
    def advance(session: Session) -> bool:
        at = max(now, _now())
        if not (planning.release(session, turn.item, batch.leased_until)
                and schedules.advance(session, turn.item, at, every[Loop.FULL])):
            return False
        # The full verification included the probe: a probe due now is not sent again.
        schedules.advance_if_due(session, turn.item.entry_id, Loop.PROBE, at,
                                 every[Loop.PROBE])
        return True

    full = await full_verify(store, turn.item.entry_id, checker, also=advance)
    report.stored_full_turn(turn.item.entry_id, turn.slug, full)
