"""Jobs as asyncio tasks of this process: the implementation for one machine on SQLite.

There is no other process to hand work to, and SQLite has one writer anyway, so a queue
would only add a table to poll. A job is started as soon as it is submitted, at most
``at_once`` run together, and one that fails is logged without touching the others. What
is waiting or running here is counted for ``/metrics`` (``local_depth``), since no table
holds it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import AsyncExitStack
from datetime import timedelta

from eurodex.jobs import Job, QueueDepth, planning
from eurodex.jobs.tasks import WorkContext, run_job
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.verify.check import Checker
from eurodex.verify.round import check_settings

log = logging.getLogger("eurodex.jobs")

_LIVE: weakref.WeakSet[InProcessJobs] = weakref.WeakSet()


def local_depth() -> QueueDepth:
    """What the in-process runners of this process have waiting and running."""
    runners = list(_LIVE)
    return QueueDepth(waiting=sum(r.waiting for r in runners),
                      running=sum(r.running for r in runners))


class InProcessJobs:
    """``async with InProcessJobs(store, settings) as jobs: await jobs.submit(...)``."""

    def __init__(self, store: Store, settings: Settings, *, at_once: int = 4,
                 checker: Checker | None = None, concurrency: int = 32,
                 batch_size: int = planning.BATCH_SIZE,
                 lease_for: timedelta = planning.LEASE_FOR) -> None:
        self.store = store
        self.settings = settings
        self._checker = checker
        self._options = {"concurrency": concurrency, "batch_size": batch_size,
                         "lease_for": lease_for}
        self._slots = asyncio.Semaphore(at_once)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stack = AsyncExitStack()
        self.context: WorkContext | None = None
        self.waiting = 0
        self.running = 0
        self.done = 0
        self.failed = 0

    async def __aenter__(self) -> InProcessJobs:
        checker = self._checker or await self._stack.enter_async_context(
            Checker(check_settings(self.settings)))
        self.context = WorkContext(self.store, self.settings, checker, self, **self._options)
        _LIVE.add(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        _LIVE.discard(self)
        await self._stack.aclose()

    async def submit(self, *jobs: Job) -> None:
        if self.context is None:
            raise RuntimeError("InProcessJobs must be entered (async with) before use")
        for job in jobs:
            self.waiting += 1
            task = asyncio.create_task(self._run(job), name=f"eurodex-job-{job.kind}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def depth(self) -> QueueDepth:
        return QueueDepth(waiting=self.waiting, running=self.running)

    async def drain(self) -> None:
        """Wait until every job submitted so far, and every job they submitted, is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, job: Job) -> None:
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1  # started, or cancelled while waiting
        self.running += 1
        try:
            summary = await run_job(self.context, job)
            self.done += 1
            log.debug("%s job done: %s", job.kind, summary)
        except asyncio.CancelledError:
            raise
        except Exception:  # one job's failure is logged; the runner goes on
            self.failed += 1
            log.exception("%s job failed", job.kind)
        finally:
            self.running -= 1
            self._slots.release()
