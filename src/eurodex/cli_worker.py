"""``eurodex worker``: take harvest, verify, capture, score and retention jobs from the queue.

Cluster mode only (``EURODEX_DATABASE_URL=postgresql+psycopg://...``): start any number of
workers on any number of machines, and serve the web with ``EURODEX_SCHEDULER=0`` so that
planning happens once, in the queue. On SQLite there is no queue: the web process runs the
loops itself (``eurodex run``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url

from eurodex.settings import Settings
from eurodex.store.db import Store

console = Console()
log = logging.getLogger("eurodex.jobs")


def worker_command(
    jobs: Annotated[int, typer.Option(
        "--jobs", min=1, envvar="EURODEX_WORKER_JOBS",
        help="Jobs this worker runs at the same time.")] = 4,
    concurrency: Annotated[int, typer.Option(
        min=1, envvar="EURODEX_WORKER_CONCURRENCY",
        help="Checks in flight in one verification job.")] = 32,
    plan_every: Annotated[int, typer.Option(
        min=1, envvar="EURODEX_PLAN_EVERY_S",
        help="Seconds between planning rounds (a divisor of 60 s or of 60 min); the same "
        "on every worker.")] = 30,
    batch_size: Annotated[int, typer.Option(
        min=1, envvar="EURODEX_BATCH_SIZE", help="Turns per verification job.")] = 50,
    plan_limit: Annotated[int, typer.Option(
        min=1, envvar="EURODEX_PLAN_LIMIT",
        help="Turns handed out per loop per planning round.")] = 2000,
    lease: Annotated[float, typer.Option(
        min=1, envvar="EURODEX_LEASE_S",
        help="Seconds a handed-out turn is reserved for its job.")] = 600,
    heartbeat: Annotated[float, typer.Option(
        min=0.1, envvar="EURODEX_WORKER_HEARTBEAT_S",
        help="Seconds between this worker's heartbeats.")] = 10.0,
    stalled_after: Annotated[float, typer.Option(
        min=0.5, envvar="EURODEX_WORKER_STALLED_AFTER_S",
        help="Seconds without a heartbeat after which a worker's jobs are taken over.")] = 30.0,
    name: Annotated[str | None, typer.Option(help="This worker's name in the logs.")] = None,
    verbose: bool = False,
) -> None:
    """Run a cluster worker: take jobs from the PostgreSQL queue until stopped."""
    from eurodex.jobs.queue import WorkerSettings, every, run_worker

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "sqlalchemy", "aiohttp", "procrastinate", "psycopg"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env()
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        console.print("[red]A worker needs the PostgreSQL queue[/red] "
                      "(EURODEX_DATABASE_URL=postgresql+psycopg://...). On SQLite the web "
                      "process runs every job itself: `eurodex run`.")
        raise typer.Exit(2)
    try:
        every(plan_every)
    except ValueError as exc:
        console.print(f"[red]--plan-every:[/red] {exc}")
        raise typer.Exit(2) from exc
    tuning = WorkerSettings(
        jobs_at_once=jobs, concurrency=concurrency, batch_size=batch_size,
        plan_limit=plan_limit, plan_every_s=plan_every, lease_for=timedelta(seconds=lease),
        heartbeat_s=heartbeat, stalled_after_s=stalled_after,
        name=name or f"{socket.gethostname()}-{os.getpid()}")
    store = Store(settings.database_url)
    _migrate(store)
    log.info("worker %s taking jobs (%d at once, %d checks each)", tuning.name, jobs,
             concurrency)
    try:
        asyncio.run(run_worker(settings, store, tuning))
    finally:
        store.dispose()


# Any constant: workers started together take turns to bring the schema up to date.
_MIGRATION_LOCK = 0x6575726F  # "euro"


def _migrate(store: Store) -> None:
    """The queue's schema comes with the register's (migration 0109); workers started at
    the same moment would otherwise race to create the same tables."""
    with store.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            store.migrate()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                               {"key": _MIGRATION_LOCK})


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
