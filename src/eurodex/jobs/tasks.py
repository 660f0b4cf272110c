"""What each kind of job does, the same wherever it runs.

A job gets a :class:`WorkContext`: the store, the settings, the process's one Checker (so a
host's politeness state and the connection pool carry over from job to job, as they do from
tick to tick in the web process) and the :class:`~eurodex.jobs.Jobs` it can submit further
jobs to. The database work is synchronous SQLAlchemy, run in threads so the event loop keeps
serving checks and the queue's heartbeats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eurodex import pipeline
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.sources import build_harvester, load_sources
from eurodex.jobs import Job, JobKind, Jobs, planning
from eurodex.jobs.batch import STOP_BEFORE_LEASE_END, run_batch
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.cadence import Loop
from eurodex.verify.check import Checker
from eurodex.verify.commit import store_outcome
from eurodex.verify.retention import delete_old_checks
from eurodex.verify.round import check_settings
from eurodex.verify.scheduler import (
    TICK_LIMIT,
    ensure_all_schedules,
    mark_stale_now,
    scores_behind_now,
)
from eurodex.verify.spec_refresh import is_remote, refetch_spec

log = logging.getLogger("eurodex.jobs")


@dataclass
class WorkContext:
    store: Store
    settings: Settings
    checker: Checker
    jobs: Jobs
    concurrency: int = 32  # checks in flight in one verify job
    plan_limit: int = TICK_LIMIT  # turns leased per loop per planning round
    batch_size: int = planning.BATCH_SIZE
    lease_for: timedelta = planning.LEASE_FOR

    @property
    def stop_before_lease_end(self) -> timedelta:
        return min(STOP_BEFORE_LEASE_END, self.lease_for / 3)


def _now() -> datetime:
    return datetime.now(UTC)


async def plan(ctx: WorkContext) -> dict:
    """One planning round, what a tick is in-process: STALE states, then the due turns of
    both loops leased and submitted as verify jobs (full first: it includes the probe)."""
    now = _now()
    stale = await asyncio.to_thread(mark_stale_now, ctx.store, now)
    behind = await asyncio.to_thread(scores_behind_now, ctx.store)
    await asyncio.to_thread(ensure_all_schedules, ctx.store, ctx.settings, now)
    leased: dict[str, int] = {}
    for loop in (Loop.FULL, Loop.PROBE):
        until, items = await asyncio.to_thread(_lease, ctx, loop, now)
        leased[loop.value] = len(items)
        await ctx.jobs.submit(*(Job(JobKind.VERIFY, b.to_args())
                                for b in planning.batches(loop, until, items, ctx.batch_size)))
    if stale or behind:
        await ctx.jobs.submit(Job.score(sorted(set(stale) | set(behind))))
    return {"stale": len(stale), "leased": leased}


def _lease(ctx: WorkContext, loop: Loop, now: datetime):
    with ctx.store.session() as session:
        return planning.lease_due(session, loop, now, limit=ctx.plan_limit,
                                  lease_for=ctx.lease_for)


async def verify(ctx: WorkContext, **args) -> dict:
    """A batch of leased turns, then the scores of the entries it checked."""
    report = await run_batch(ctx.store, ctx.settings, ctx.checker,
                             planning.Batch.from_args(args), concurrency=ctx.concurrency,
                             stop_before_end=ctx.stop_before_lease_end)
    if report.entry_ids:
        await asyncio.to_thread(pipeline.score, ctx.store, report.entry_ids)
    return {"stored": report.stored, "taken": report.taken, "failed": len(report.failed),
            "outcomes": report.outcomes}


async def harvest(ctx: WorkContext, source: str, live: bool = False) -> dict:
    """Harvest one configured source (its snapshot, or live), then score what changed."""
    return await asyncio.to_thread(_harvest, ctx.settings, ctx.store, source, live)


def _harvest(settings: Settings, store: Store, source: str, live: bool) -> dict:
    configs = {c.slug: c for c in load_sources(settings.sources_file)}
    if source not in configs:
        raise LookupError(f"no harvest source {source!r} in the sources file")
    fetcher = PageFetcher(check_settings(settings)) if live else None
    try:
        harvester = build_harvester(configs[source], live=live, fetcher=fetcher)
        report = pipeline.harvest(store, harvester, curation=pipeline.current_curation())
    finally:
        if fetcher is not None:
            fetcher.close()
    pipeline.score(store, report.entry_ids)
    return {"new": report.new, "updated": report.updated, "failed": report.failed}


async def capture(ctx: WorkContext, entry_id: int) -> dict:
    """Re-fetch and re-capture one entry's remote spec, outside its full verification."""
    spec_url = await asyncio.to_thread(_spec_url, ctx.store, entry_id)
    if not is_remote(spec_url):
        return {"spec": None}
    refresh = await refetch_spec(ctx.checker, spec_url)
    outcome = await asyncio.to_thread(store_outcome, ctx.store, entry_id, None, spec=refresh)
    return {"spec": outcome}


def _spec_url(store: Store, entry_id: int) -> str | None:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        return entry.spec_url if entry is not None else None


async def score(ctx: WorkContext, entry_ids: list[int] | None = None) -> dict:
    return {"scored": await asyncio.to_thread(pipeline.score, ctx.store, entry_ids)}


async def retention(ctx: WorkContext) -> dict:
    return {"deleted": await asyncio.to_thread(delete_old_checks, ctx.store)}


WORK: dict[JobKind, Callable[..., Awaitable[dict]]] = {
    JobKind.PLAN: plan,
    JobKind.VERIFY: verify,
    JobKind.HARVEST: harvest,
    JobKind.CAPTURE: capture,
    JobKind.SCORE: score,
    JobKind.RETENTION: retention,
}


async def run_job(ctx: WorkContext, job: Job) -> dict:
    """Do ``job``; returns a small summary for the logs (and the queue's job record)."""
    return await WORK[JobKind(job.kind)](ctx, **job.args)
