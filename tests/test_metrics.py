"""``/metrics`` on a real database: the numbers Prometheus scrapes are what the store holds.

Checks, harvest runs, entries and schedules are written through the store at known times;
the queue holds jobs submitted through the job layer (procrastinate's table on PostgreSQL,
the in-process runner on SQLite).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from eurodex.jobs import Job
from eurodex.jobs.inprocess import InProcessJobs
from eurodex.model import Outcome, Status
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.tables import HarvestRun, Schedule
from eurodex.verify.cadence import Loop
from eurodex.verify.scheduler import ensure_all_schedules
from eurodex.web.app import create_app
from eurodex.web.metrics import render

from . import backends
from .verify_support import make_entries, record


def _samples(body: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _fill(store) -> list[int]:
    """Three approved APIs and one quarantined; checks in and out of the 5-minute window;
    three finished harvest runs and one still running; two probes due."""
    now = datetime.now(UTC)
    ids = make_entries(store, 3)
    [quarantined] = make_entries(store, 1, status=Status.QUARANTINED)
    for entry_id in ids:
        record(store, entry_id, Outcome.UP, now - timedelta(minutes=1))
    record(store, ids[0], Outcome.DOWN, now - timedelta(minutes=2))
    record(store, ids[1], Outcome.UP_AUTH, now - timedelta(seconds=30))
    record(store, ids[2], Outcome.UP, now - timedelta(minutes=20))  # outside the window
    with store.session() as session:
        source = repo.ensure_source(session, slug="test-source", name="Test source",
                                    format="test", url=None, trusted=True)
        start = now - timedelta(hours=3)
        for seconds in (2, 20, 100):
            session.add(HarvestRun(source_id=source.id, started_at=start, status="ok",
                                   finished_at=start + timedelta(seconds=seconds)))
            start += timedelta(hours=1)
        session.add(HarvestRun(source_id=source.id, started_at=now, status="running"))
    ensure_all_schedules(store, Settings(database_url=store.url), now)
    with store.session() as session:
        session.execute(update(Schedule).values(next_due_at=now + timedelta(days=1)))
        session.execute(update(Schedule).where(Schedule.loop == Loop.PROBE.value,
                                               Schedule.entry_id.in_(ids[:2]))
                        .values(next_due_at=now - timedelta(minutes=1)))
    return ids + [quarantined]


def test_metrics_are_read_from_the_database(store, serve):
    _fill(store)
    with serve(create_app(Settings(database_url=store.url), store)) as served:
        answer = httpx.get(served.url + "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    got = _samples(answer.text)

    per_second = {o: got[("eurodex_checks_per_second", (("outcome", o),))] for o in Outcome}
    assert per_second == {"UP": 3 / 300, "UP_AUTH": 1 / 300, "DOWN": 1 / 300,
                          "INCONCLUSIVE": 0.0}

    assert got[("eurodex_entries", (("state", "VERIFIED"), ("status", "APPROVED")))] == 3
    assert got[("eurodex_entries", (("state", "UNVERIFIED"), ("status", "QUARANTINED")))] == 1

    source = (("source", "test-source"),)
    assert got[("eurodex_harvest_duration_seconds_count", source)] == 3  # not the running one
    assert got[("eurodex_harvest_duration_seconds_sum", source)] == 122
    bucket = {le: got[("eurodex_harvest_duration_seconds_bucket", (("le", le),) + source)]
              for le in ("1.0", "5.0", "30.0", "120.0", "+Inf")}
    assert bucket == {"1.0": 0, "5.0": 1, "30.0": 2, "120.0": 3, "+Inf": 3}
    assert got[("eurodex_harvest_last_duration_seconds", source)] == 100

    assert got[("eurodex_turns_due", (("loop", "probe"),))] == 2
    assert got[("eurodex_turns_due", (("loop", "full"),))] == 0
    assert got[("eurodex_turns_leased", (("loop", "probe"),))] == 0


async def test_queue_depth_counts_the_jobs_waiting(store):
    """Three jobs submitted and not started: the depth any replica reports is 3."""
    if backends.POSTGRES:
        from eurodex.jobs.queue import QueueJobs

        async with QueueJobs.open(store.url) as jobs:
            await jobs.submit(Job.score([1]), Job.score([2]), Job.retention())
            got = _samples(render(store).decode())
    else:
        async with InProcessJobs(store, Settings(database_url=store.url)) as jobs:
            # Submitted, and not started until this coroutine next yields to the loop.
            await jobs.submit(Job.score([1]), Job.score([2]), Job.retention())
            got = _samples(render(store).decode())
            await jobs.drain()
        after = _samples(render(store).decode())
        assert after[("eurodex_queue_depth", ())] == 0
    assert got[("eurodex_queue_depth", ())] == 3
    assert got[("eurodex_queue_jobs", (("status", "todo"),))] == 3
    assert got[("eurodex_queue_jobs", (("status", "doing"),))] == 0
    assert got[("eurodex_queue_jobs", (("status", "failed"),))] == 0
