"""Throughput of cluster mode: loopback URLs verified through the job queue by 1, then 2
``eurodex worker`` processes, against the in-process engine on the same URLs and database.

Why: the queue buys workers on many machines at a price (planning rounds, leases, a job
row per batch, a worker's polling). This measures that price, and how the work spreads over
a second worker, in one run on one machine. Loopback servers run in a child process, on
many ports (a host is ``host:port`` to the checker's politeness, so each port is a host);
each URL is its own entry, so a phase is one probe turn of every entry, stored as the
rolling loops store it (check, roll-up, state, schedule advance, lease).

    .venv/bin/python bench/cluster.py [--urls 20000] [--jobs 4] [--concurrency 32]

Needs PostgreSQL (EURODEX_BENCH_POSTGRES, default postgresql+psycopg://postgres@127.0.0.1:5432);
a fresh database is created for the run and dropped after it. Bounded: every phase runs
under a deadline, and the servers, workers and database are always cleaned up.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg
from aiohttp import web
from sqlalchemy import func, insert, select, text, update

from eurodex import pipeline
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.store.tables import Check, Entry, Schedule, Source
from eurodex.verify.cadence import Loop
from eurodex.verify.scheduler import verify_due

SERVER = os.environ.get("EURODEX_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
LATENCIES_MS = (0, 5, 20)  # by port, in turn
URLS_PER_PORT = 50  # under a host's budget of 60 a minute: politeness never waits here
PHASE_DEADLINE_S = 300.0
EURODEX = [sys.executable, "-m", "eurodex.cli"]


def _serve(ports: int, ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    """Child process: ``ports`` loopback servers answering 200 after their latency."""

    async def main() -> None:
        runners, found = [], []
        for index in range(ports):
            delay = LATENCIES_MS[index % len(LATENCIES_MS)] / 1000

            async def handler(_request: web.Request, delay: float = delay) -> web.Response:
                if delay:
                    await asyncio.sleep(delay)
                return web.Response(text='{"status":"ok"}', content_type="application/json")

            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
            runners.append(runner)
            found.append(runner.addresses[0][1])
        ready.put(found)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for runner in runners:
            await runner.cleanup()

    asyncio.run(main())


def _admin() -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/postgres".replace("postgresql+psycopg", "postgresql"),
                           autocommit=True, connect_timeout=5)


def _fill(store: Store, ports: list[int], count: int) -> None:
    """``count`` approved APIs, one URL each, spread over the ports; schedules not due."""
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    with store.session() as session:
        source_id = session.scalar(insert(Source).values(
            slug="bench", name="Bench", format="bench", trusted=True, created_at=now)
            .returning(Source.id))
        rows = [{"slug": f"bench-{i}", "kind": "API", "name": f"Bench API {i}",
                 "base_url": f"http://127.0.0.1:{ports[i % len(ports)]}/api/{i}",
                 "source_id": source_id, "record_id": str(i), "status": "APPROVED",
                 "state": "UNVERIFIED", "topics": [], "tags": [], "created_at": now,
                 "updated_at": now} for i in range(count)]
        session.execute(insert(Entry), rows)
        ids = session.scalars(select(Entry.id)).all()
        session.execute(insert(Schedule), [{"entry_id": entry_id, "loop": loop.value,
                                            "next_due_at": later}
                                           for entry_id in ids for loop in Loop])


def _make_due(store: Store) -> datetime:
    """Every probe due an hour ago and not leased; returns when."""
    now = datetime.now(UTC)
    with store.session() as session:
        session.execute(update(Schedule).where(Schedule.loop == Loop.PROBE.value).values(
            next_due_at=now - timedelta(hours=1), leased_until=None, last_run_at=None))
    return now


def _stored(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Schedule).where(
            Schedule.loop == Loop.PROBE.value, Schedule.last_run_at.is_not(None))) or 0


def _outcomes(store: Store, since: datetime) -> dict[str, int]:
    with store.session() as session:
        return dict(session.execute(select(Check.outcome, func.count())
                                    .where(Check.started_at >= since)
                                    .group_by(Check.outcome)).all())


def in_process(store: Store, settings: Settings, count: int, concurrency: int) -> float:
    """The one-machine engine as a tick runs it: ``verify_due`` in this process, then the
    scores of what it checked (a verify job scores its batch too)."""
    since = _make_due(store)
    started = time.perf_counter()
    report = asyncio.run(asyncio.wait_for(
        verify_due(store, settings, Loop.PROBE, limit=None, concurrency=concurrency),
        PHASE_DEADLINE_S))
    pipeline.score(store, report.entry_ids)
    wall = time.perf_counter() - started
    assert report.stored == count, f"in-process stored {report.stored} of {count}"
    return _report("in-process", count, wall, _outcomes(store, since))


def through_queue(store: Store, env: dict[str, str], count: int, workers: int,
                  options: list[str]) -> float:
    """``workers`` worker processes, started and idle before the turns fall due."""
    with tempfile.TemporaryFile("w+") as logs:  # shown if the phase does not finish
        processes = [subprocess.Popen([*EURODEX, "worker", "--name", f"bench-{n}", *options],
                                      env=env, stdout=logs, stderr=subprocess.STDOUT)
                     for n in range(workers)]
        try:
            _until(lambda: _registered(store) == workers, 60, "workers to start")
            since = _make_due(store)
            started = time.perf_counter()
            _until(lambda: _stored(store) == count, PHASE_DEADLINE_S, "every turn stored")
            wall = time.perf_counter() - started
        except TimeoutError:
            logs.seek(0)
            print(logs.read()[-5000:], file=sys.stderr)
            raise
        finally:
            _stop(processes)
    label = f"{workers} worker" + ("s" if workers > 1 else "")
    return _report(label, count, wall, _outcomes(store, since))


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def _registered(store: Store) -> int:
    with store.session() as session:
        return session.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0


def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _report(label: str, count: int, wall: float, outcomes: dict[str, int]) -> float:
    rate = count / wall
    print(f"{label:<11} {count} URLs in {wall:6.2f} s = {rate:7.1f} checks/s  -> {outcomes}",
          flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=4, help="jobs a worker runs at once")
    parser.add_argument("--concurrency", type=int, default=32, help="checks per job")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    name = f"eurodex_bench_{os.getpid()}_{secrets.token_hex(4)}"
    url = f"{SERVER}/{name}"
    ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    stop = mp.Event()
    ports = math.ceil(args.urls / URLS_PER_PORT)
    server = mp.Process(target=_serve, args=(ports, ready, stop), daemon=True)
    server.start()
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    store = Store(url)
    try:
        addresses = ready.get(timeout=60)
        store.migrate()
        _fill(store, addresses, args.urls)
        print(f"{args.urls} entries on {ports} loopback ports ({', '.join(map(str, LATENCIES_MS))}"
              f" ms); a worker runs {args.jobs} jobs of {args.batch_size} turns at once, "
              f"{args.concurrency} checks each; {os.cpu_count()} CPUs", flush=True)
        env = {**os.environ, "EURODEX_DATABASE_URL": url,
               "EURODEX_ALLOWED_NETWORKS": "127.0.0.0/8"}
        options = ["--plan-every", "1", "--plan-limit", str(args.urls), "--batch-size",
                   str(args.batch_size), "--jobs", str(args.jobs), "--concurrency",
                   str(args.concurrency)]
        one = through_queue(store, env, args.urls, 1, options)
        two = through_queue(store, env, args.urls, 2, options)
        settings = Settings(database_url=url, allowed_networks=("127.0.0.0/8",))
        alone = in_process(store, settings, args.urls, args.jobs * args.concurrency)
        print(f"scaling 1 -> 2 workers: x{two / one:.2f}; queue with 1 worker against the "
              f"in-process engine (same {args.jobs * args.concurrency} checks in flight): "
              f"{one / alone:.2f} of its throughput, overhead {1 - one / alone:+.0%}")
    finally:
        store.dispose()
        stop.set()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
