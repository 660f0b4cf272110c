"""The rolling loops of methodology 4 inside the web process, as jobs of this process.

On one machine nothing else takes the work, so each tick submits a planning job to the
in-process runner (:class:`~eurodex.jobs.inprocess.InProcessJobs`) and waits for it and for
the verify and score jobs it submits; once a day it submits the retention job too. These
are the jobs ``eurodex worker`` takes from the queue on a cluster, run by the same code
(``eurodex.jobs.tasks``): only the runner differs. A tick waits for its jobs before the next
one starts, so ticks never overlap, and the runner keeps one Checker for its lifetime, so a
host's 429 back-off and its connection pool carry over from tick to tick.

A cluster runs its planning on the workers instead: there the web process keeps
``EURODEX_SCHEDULER=0``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

from eurodex.jobs import Job
from eurodex.jobs.inprocess import InProcessJobs
from eurodex.settings import Settings
from eurodex.store.db import Store

log = logging.getLogger("eurodex.verify")

RETENTION_EVERY = timedelta(days=1)


class VerificationLoops:
    """Ticks until cancelled: plan (STALE states, due turns leased and verified), re-score."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.ticks = 0
        self.last_retention: datetime | None = None

    async def run(self) -> None:
        async with InProcessJobs(self.store, self.settings) as jobs:
            while True:
                now = datetime.now(UTC)
                retention = (self.last_retention is None
                             or now - self.last_retention >= RETENTION_EVERY)
                try:
                    await jobs.submit(Job.plan(), *([Job.retention()] if retention else []))
                    await jobs.drain()
                    if retention:
                        self.last_retention = now
                except asyncio.CancelledError:
                    raise
                except Exception:  # a failed tick (database busy, a bug) must not end the loops
                    log.exception("verification tick failed; trying again next tick")
                self.ticks += 1
                await asyncio.sleep(self.settings.scheduler_tick_s)


@asynccontextmanager
async def background_loops(settings: Settings, store: Store) -> AsyncIterator[
        VerificationLoops | None]:
    """Run the loops while the context is open, when ``settings.scheduler`` asks for it."""
    if not settings.scheduler:
        yield None
        return
    loops = VerificationLoops(store, settings)
    task = asyncio.create_task(loops.run(), name="eurodex-verification-loops")
    log.info("verification loops started (probe every %s s, full every %s s)",
             settings.probe_period_s, settings.full_period_s)
    try:
        yield loops
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
