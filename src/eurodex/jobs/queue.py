"""Jobs through a procrastinate queue in the register's own PostgreSQL: cluster mode.

Migration 0109 installs procrastinate's schema; ``eurodex worker`` processes on any number
of machines take jobs from it (:func:`run_worker`). What procrastinate gives, and why it is
enough here:

- Periodic jobs that never fire twice: every worker runs the same periodic deferrer, and the
  database accepts one job per task and cron timestamp (a unique constraint), so planning,
  retention and the stalled-job sweep each run once per tick of their cron however many
  workers there are. Their queueing locks keep a late one from piling up behind another,
  and planning's lock keeps two rounds from ever running at the same time.
- A killed worker's jobs are taken over: each worker writes a heartbeat; the periodic sweep
  (``retry_stalled``) puts back in the queue any job left ``doing`` by a worker whose
  heartbeat is older than ``stalled_after_s``, and another worker runs it again. A verify
  job run again finds its turns still leased to it and does those not stored yet
  (``eurodex.jobs.planning``).

Every worker must be started with the same ``plan_every_s`` (it is the planning cron); the
other settings of :class:`WorkerSettings` may differ from machine to machine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import JobContext
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from eurodex.jobs import Job, JobKind, QueueDepth, planning
from eurodex.jobs.tasks import WorkContext, run_job
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.verify.check import Checker
from eurodex.verify.round import check_settings
from eurodex.verify.scheduler import TICK_LIMIT

log = logging.getLogger("eurodex.jobs")

TASK_PREFIX = "eurodex."
RETRY_STALLED = "eurodex.retry_stalled"
TIDY = "eurodex.tidy_queue"
RETENTION_CRON = "17 3 * * *"  # daily, at a quiet hour
TIDY_CRON = "41 * * * *"  # hourly
FINISHED_JOBS_KEPT_HOURS = 24
URGENT = 10  # priority of the jobs that keep the others moving (planning, the sweep)


def task_name(kind: JobKind) -> str:
    return TASK_PREFIX + JobKind(kind).value


def every(seconds: int) -> str:
    """A cron expression firing every ``seconds`` (a divisor of 60, or whole minutes)."""
    if 0 < seconds < 60 and 60 % seconds == 0:
        return f"*/{seconds} * * * * *"  # procrastinate's sixth column: seconds
    if seconds % 60 == 0 and 60 % (seconds // 60) == 0:
        return f"*/{seconds // 60} * * * *"
    raise ValueError(f"{seconds} s: use a divisor of 60 seconds, or of 60 minutes")


@dataclass(frozen=True)
class WorkerSettings:
    """How one worker works (``eurodex worker`` options)."""

    jobs_at_once: int = 4  # jobs run together by one worker
    concurrency: int = 32  # checks in flight in one verify job
    batch_size: int = planning.BATCH_SIZE
    plan_limit: int = TICK_LIMIT
    plan_every_s: int = 30  # the same on every worker: it is the planning cron
    lease_for: timedelta = planning.LEASE_FOR
    heartbeat_s: float = 10.0
    stalled_after_s: float = 30.0  # a worker silent this long is taken to be dead
    name: str | None = None


@dataclass(frozen=True)
class _Locks:
    """No two jobs with one ``lock`` run at once; no two with one ``queueing`` lock wait."""

    lock: str | None = None
    queueing: str | None = None
    priority: int = 0


NO_LOCKS = _Locks()
# Task defaults, which the periodic jobs get too: planning never runs twice at once, nor
# piles up behind itself; the same for retention.
_TASK_LOCKS = {
    JobKind.PLAN: _Locks("eurodex-plan", "eurodex-plan", URGENT),
    JobKind.RETENTION: _Locks("eurodex-retention", "eurodex-retention"),
}


def _locks(job: Job) -> _Locks:
    kind = JobKind(job.kind)
    if kind is JobKind.HARVEST:  # a source is harvested by one worker at a time
        lock = f"eurodex-harvest-{job.args['source']}"
        return _Locks(lock, lock)
    if kind is JobKind.CAPTURE:
        return _Locks(queueing=f"eurodex-capture-{job.args['entry_id']}")
    return _TASK_LOCKS.get(kind, NO_LOCKS)


def conninfo(database_url: str) -> str:
    """The libpq address of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the job queue needs PostgreSQL (EURODEX_DATABASE_URL="
                         "postgresql+psycopg://...); on SQLite jobs run in-process")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str, tuning: WorkerSettings | None = None) -> App:
    """A procrastinate app on the register's database, with every eurodex task and the
    periodic ones (planning every ``plan_every_s``, retention daily, the stalled sweep)."""
    tuning = tuning or WorkerSettings()
    app = App(connector=PsycopgConnector(conninfo=conninfo(database_url), min_size=1,
                                         max_size=tuning.jobs_at_once + 4))
    for kind in JobKind:
        _register(app, kind)
    plan = app.tasks[task_name(JobKind.PLAN)]
    app.periodic(cron=every(tuning.plan_every_s), periodic_id="plan")(plan)
    app.periodic(cron=RETENTION_CRON, periodic_id="retention")(
        app.tasks[task_name(JobKind.RETENTION)])

    @app.periodic(cron=every(_sweep_every(tuning)), periodic_id="sweep")
    @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, priority=URGENT)
    async def retry_stalled(timestamp: int) -> int:
        """Put back in the queue the jobs of workers whose heartbeat stopped."""
        stalled = await app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=tuning.stalled_after_s)
        for job in stalled:
            log.warning("job %s (%s) was left running by a silent worker; queued again",
                        job.id, job.task_name)
            await app.job_manager.retry_job(job)
        return len(list(stalled))

    @app.periodic(cron=TIDY_CRON, periodic_id="tidy")
    @app.task(name=TIDY, queueing_lock=TIDY)
    async def tidy_queue(timestamp: int) -> None:
        """Finished jobs are kept a day, for the operator to look at, then deleted."""
        await app.job_manager.delete_old_jobs(nb_hours=FINISHED_JOBS_KEPT_HOURS)

    return app


def _sweep_every(tuning: WorkerSettings) -> int:
    """The sweep looks for silent workers about as often as they are declared dead."""
    for seconds in (1, 2, 5, 10, 15, 30):
        if seconds >= tuning.stalled_after_s / 2:
            return seconds
    return 60


def _register(app: App, kind: JobKind) -> None:
    async def run(context: JobContext, timestamp: int | None = None, **args) -> dict:
        work: WorkContext = context.additional_context["work"]
        summary = await run_job(work, Job(kind, args))
        idle = kind is JobKind.PLAN and not any(summary["leased"].values())
        log.log(logging.DEBUG if idle else logging.INFO, "%s job %s done: %s", kind,
                context.job.id, summary)
        return summary

    run.__name__ = run.__qualname__ = f"run_{kind.value}"
    locks = _TASK_LOCKS.get(kind, NO_LOCKS)
    app.task(name=task_name(kind), pass_context=True, lock=locks.lock,
             queueing_lock=locks.queueing, priority=locks.priority)(run)


class QueueJobs:
    """Submitting jobs to the queue, from a worker or from any other process."""

    def __init__(self, app: App) -> None:
        self.app = app

    @classmethod
    @asynccontextmanager
    async def open(cls, database_url: str) -> AsyncIterator[QueueJobs]:
        app = build_app(database_url)
        async with app.open_async():
            yield cls(app)

    async def submit(self, *jobs: Job) -> None:
        plain = [job for job in jobs if _locks(job) == NO_LOCKS]
        for kind in {job.kind for job in plain}:  # one INSERT for a planning round's batches
            await self.app.configure_task(task_name(kind)).batch_defer_async(
                *(job.args for job in plain if job.kind == kind))
        for job in jobs:
            locks = _locks(job)
            if locks == NO_LOCKS:
                continue
            try:
                await self.app.configure_task(
                    task_name(job.kind), lock=locks.lock, queueing_lock=locks.queueing,
                    priority=locks.priority).defer_async(**job.args)
            except AlreadyEnqueued:
                log.info("%s job not queued: the same one is already waiting", job.kind)

    async def depth(self) -> QueueDepth:
        counts: dict[str, int] = {}
        for queue in await self.app.job_manager.list_queues_async():
            for status in ("todo", "doing"):
                counts[status] = counts.get(status, 0) + int(queue.get(status) or 0)
        return QueueDepth(waiting=counts.get("todo", 0), running=counts.get("doing", 0))


def jobs_by_status(session: Session) -> dict[str, int]:
    """Queue jobs by procrastinate status (todo, doing, succeeded, failed, ...)."""
    rows = session.execute(text(
        "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all()
    return {status: int(count) for status, count in rows}


async def run_worker(settings: Settings, store: Store, tuning: WorkerSettings) -> None:
    """Take jobs until SIGINT or SIGTERM (then finish the running ones, up to 30 s)."""
    app = build_app(settings.database_url, tuning)
    async with app.open_async(), Checker(check_settings(settings)) as checker:
        work = WorkContext(store, settings, checker, QueueJobs(app),
                           concurrency=tuning.concurrency, plan_limit=tuning.plan_limit,
                           batch_size=tuning.batch_size, lease_for=tuning.lease_for)
        await app.run_worker_async(
            name=tuning.name, concurrency=tuning.jobs_at_once,
            additional_context={"work": work},
            update_heartbeat_interval=tuning.heartbeat_s,
            stalled_worker_timeout=tuning.stalled_after_s,
            shutdown_graceful_timeout=30.0,
        )

