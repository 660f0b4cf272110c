"""The two rolling loops of methodology 4, and the in-process runner that drives them.

``verify_due`` runs one round of one loop: every schedule due now is checked, and each
entry's check, roll-up, state, events and schedule advance are stored in one transaction
(see ``verify.commit``). The due times are persisted (``schedules``), so a process that is
stopped, killed or restarted resumes where it was: nothing checked is lost, nothing stored
is checked again for the same turn.

``run_tick`` is one such round of both loops, for the command line and the tests: it
refreshes STALE states, runs what is due in the full loop then in the probe loop (a full
verification includes the probe, so a probe due at the same time is not sent twice),
re-scores what changed and, when asked, deletes raw checks past 90 days. Several processes
running rounds on one database never store a turn twice (the schedule advance is a
compare-and-set); they only waste a request now and then.

The loops that run continuously go through the job interface (``eurodex.jobs``): inside the
web process on one machine (``eurodex.jobs.loops``), on ``eurodex worker`` processes on a
cluster. No scheduler library is needed: all the state one would keep (what is due, when it
last ran) already lives in the database, where it survives restarts and is shared by every
process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eurodex import pipeline
from eurodex.settings import Settings
from eurodex.store import schedules
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.cadence import Loop
from eurodex.verify.check import Checker
from eurodex.verify.commit import TurnTaken, store_outcome
from eurodex.verify.full import FullReport, full_verify
from eurodex.verify.retention import delete_old_checks
from eurodex.verify.round import check_settings, probe_url
from eurodex.verify.staleness import mark_stale, scores_behind_checks

log = logging.getLogger("eurodex.verify")

TICK_LIMIT = 2000  # turns per loop per tick; the rest waits for the next tick, still in order


def periods(settings: Settings) -> dict[Loop, timedelta]:
    return {Loop.PROBE: timedelta(seconds=settings.probe_period_s),
            Loop.FULL: timedelta(seconds=settings.full_period_s)}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Turn:
    item: schedules.DueItem
    slug: str
    url: str | None


@dataclass
class DueReport:
    """What one round of one loop did."""

    loop: Loop
    due: int = 0
    stored: int = 0  # turns stored (with or without a check)
    checked: int = 0  # checks stored
    skipped: list[str] = field(default_factory=list)  # nothing to probe
    taken: int = 0  # turns another runner had already stored
    failed: list[str] = field(default_factory=list)  # turns that could not be stored
    outcomes: dict[str, int] = field(default_factory=dict)
    spec_changes: int = 0
    entry_ids: list[int] = field(default_factory=list)

    def stored_turn(self, entry_id: int, slug: str, outcome: str | None) -> None:
        """Count one stored turn: with the outcome of its check, or skipped (no URL)."""
        self.stored += 1
        self.entry_ids.append(entry_id)
        if outcome is None:
            self.skipped.append(slug)
            return
        self.checked += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def stored_full_turn(self, entry_id: int, slug: str, full: FullReport) -> None:
        """Count one stored full verification: its probe's outcome, and a changed spec."""
        self.stored_turn(entry_id, slug, full.check.outcome.value if full.check else None)
        if full.spec == "changed":
            self.spec_changes += 1


def ensure_all_schedules(store: Store, settings: Settings, now: datetime | None = None) -> int:
    """Give every entry its schedules; a race with another process is retried next time."""
    try:
        with store.session() as session:
            return schedules.ensure_schedules(session, now or _now(), periods(settings))
    except IntegrityError:  # another process created the same rows at the same moment
        log.info("schedules were being created by another process; retrying next round")
        return 0


def _select(store: Store, loop: Loop, now: datetime, limit: int | None) -> list[_Turn]:
    with store.session() as session:
        items = schedules.due(session, loop, now, limit)
        entries = {e.id: e for e in _entries(session, [i.entry_id for i in items])}
        return [_Turn(i, entries[i.entry_id].slug, probe_url(entries[i.entry_id]))
                for i in items if i.entry_id in entries]


def _entries(session: Session, ids: list[int]) -> list[Entry]:
    found: list[Entry] = []
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        found.extend(session.scalars(select(Entry).where(Entry.id.in_(ids[start:start + 500]))))
    return found


async def verify_due(
    store: Store,
    settings: Settings,
    loop: Loop,
    now: datetime | None = None,
    limit: int | None = None,
    *,
    checker: Checker | None = None,
    concurrency: int = 32,
    progress: Callable[[int], None] | None = None,
    on_selected: Callable[[int], None] | None = None,
) -> DueReport:
    """Run every turn of ``loop`` due at ``now`` (at most ``limit``), most overdue first."""
    loop = Loop(loop)
    now = now or _now()
    await asyncio.to_thread(ensure_all_schedules, store, settings, now)
    turns = await asyncio.to_thread(_select, store, loop, now, limit)
    report = DueReport(loop, due=len(turns))
    if on_selected:
        on_selected(len(turns))
    if not turns:
        return report
    if checker is None:
        async with Checker(check_settings(settings)) as own:
            await _run_turns(store, settings, loop, now, turns, own, concurrency, report,
                             progress)
    else:
        await _run_turns(store, settings, loop, now, turns, checker, concurrency, report,
                         progress)
    log.info("%s loop: %d due, %d stored, %d skipped, %d already taken: %s", loop, report.due,
             report.stored, len(report.skipped), report.taken, report.outcomes)
    return report


async def _run_turns(
    store: Store, settings: Settings, loop: Loop, now: datetime, turns: list[_Turn],
    checker: Checker, concurrency: int, report: DueReport,
    progress: Callable[[int], None] | None,
) -> None:
    pending = iter(turns)
    every = periods(settings)

    async def worker() -> None:
        for turn in pending:
            try:
                if loop is Loop.FULL:
                    await _full_turn(store, turn, checker, now, every, report)
                else:
                    await _probe_turn(store, turn, checker, now, every[Loop.PROBE], report)
            except TurnTaken:
                report.taken += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # the turn stays due and is retried; the others go on
                report.failed.append(turn.slug)
                log.warning("%s: %s turn failed", turn.slug, loop, exc_info=True)
            if progress:
                progress(1)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(turns))))))


async def _probe_turn(
    store: Store, turn: _Turn, checker: Checker, now: datetime, period: timedelta,
    report: DueReport,
) -> None:
    result = await checker.check(turn.url) if turn.url else None

    def advance(session: Session) -> bool:
        return schedules.advance(session, turn.item, max(now, _now()), period)

    await asyncio.to_thread(store_outcome, store, turn.item.entry_id, result, also=advance)
    report.stored_turn(turn.item.entry_id, turn.slug, result.outcome.value if result else None)


async def _full_turn(
    store: Store, turn: _Turn, checker: Checker, now: datetime,
    every: dict[Loop, timedelta], report: DueReport,
) -> None:
    def advance(session: Session) -> bool:
        at = max(now, _now())
        if not schedules.advance(session, turn.item, at, every[Loop.FULL]):
            return False
        schedules.advance_if_due(session, turn.item.entry_id, Loop.PROBE, at, every[Loop.PROBE])
        return True

    full = await full_verify(store, turn.item.entry_id, checker, also=advance)
    report.stored_full_turn(turn.item.entry_id, turn.slug, full)


# -- the in-process runner ----------------------------------------------------------------


@dataclass
class TickReport:
    stale: list[int]
    full: DueReport
    probe: DueReport
    retention: int | None = None


async def run_tick(
    store: Store, settings: Settings, checker: Checker, now: datetime | None = None,
    *, limit: int | None = TICK_LIMIT, retention: bool = False,
) -> TickReport:
    """One tick: refresh STALE states, run the due turns of both loops, re-score, clean up."""
    now = now or _now()
    stale = await asyncio.to_thread(_mark_stale, store, now)
    behind = await asyncio.to_thread(scores_behind_now, store)
    full = await verify_due(store, settings, Loop.FULL, now, limit, checker=checker)
    probe = await verify_due(store, settings, Loop.PROBE, now, limit, checker=checker)
    changed = sorted(set(stale) | set(behind) | set(full.entry_ids) | set(probe.entry_ids))
    if changed:
        await asyncio.to_thread(pipeline.score, store, changed)
    deleted = await asyncio.to_thread(delete_old_checks, store, now) if retention else None
    return TickReport(stale, full, probe, deleted)


def _mark_stale(store: Store, now: datetime) -> list[int]:
    with store.session() as session:
        return mark_stale(session, now)


def mark_stale_now(store: Store, now: datetime | None = None) -> list[int]:
    """Turn STALE every entry without a success in 24 hours; returns their ids."""
    return _mark_stale(store, now or _now())


def scores_behind_now(store: Store) -> list[int]:
    """Entries checked since their score was computed (a round killed before re-scoring)."""
    with store.session() as session:
        return scores_behind_checks(session)
