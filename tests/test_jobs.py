"""The job layer on a real database (SQLite, or PostgreSQL on its leg) and a real loopback
server: leases on verification turns, verify batches that only their lease holder can store,
the in-process implementation of the interface, and the queue's side of submitting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text, update
from werkzeug import Request, Response

from eurodex.jobs import Job, JobKind, QueueDepth, planning
from eurodex.jobs.batch import run_batch
from eurodex.jobs.inprocess import InProcessJobs, local_depth
from eurodex.settings import Settings
from eurodex.store import schedules
from eurodex.store.db import Store
from eurodex.store.tables import Check, Entry, Schedule
from eurodex.verify.cadence import Loop
from eurodex.verify.check import Checker
from eurodex.verify.round import check_settings
from eurodex.verify.scheduler import ensure_all_schedules

from . import backends
from .verify_support import LOOPBACK, make_entries


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def loopback():
    """A loopback server answering 200 to every path, counting requests per path."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.hits = Counter()

    def handler(request: Request) -> Response:
        server.hits[request.path] += 1
        return Response("ok", status=200)

    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _settings(store: Store) -> Settings:
    return Settings(database_url=store.url, allowed_networks=LOOPBACK)


def _due_probes(store: Store, server: HTTPServer, count: int) -> list[int]:
    """``count`` APIs on the loopback server, their probe due a minute ago, full turn not."""
    ids = make_entries(store, count, base_url=lambda i: server.url_for(f"/api/{i}"))
    now = _now()
    ensure_all_schedules(store, _settings(store), now)
    with store.session() as session:
        session.execute(update(Schedule).where(Schedule.entry_id.in_(ids)).values(
            next_due_at=now + timedelta(days=1)))
        session.execute(update(Schedule).where(Schedule.entry_id.in_(ids),
                                               Schedule.loop == Loop.PROBE.value)
                        .values(next_due_at=now - timedelta(minutes=1)))
    return ids


def _lease(store: Store, loop: Loop, now: datetime, **options):
    with store.session() as session:
        return planning.lease_due(session, loop, now, limit=options.pop("limit", None),
                                  **options)


def _checks(store: Store) -> Counter:
    with store.session() as session:
        return Counter(session.scalars(select(Check.entry_id)).all())


def _leases(store: Store, ids: list[int]) -> list[datetime | None]:
    with store.session() as session:
        return list(session.scalars(select(Schedule.leased_until).where(
            Schedule.entry_id.in_(ids), Schedule.loop == Loop.PROBE.value)))


# -- leases -------------------------------------------------------------------------------


def test_a_leased_turn_is_handed_out_once_until_its_lease_expires(store, loopback):
    ids = _due_probes(store, loopback, 3)
    now = _now()
    until, first = _lease(store, Loop.PROBE, now, lease_for=timedelta(minutes=10))
    assert sorted(i.entry_id for i in first) == ids
    assert until == now + timedelta(minutes=10)
    assert _lease(store, Loop.PROBE, now + timedelta(minutes=9))[1] == []  # still out
    # Its job was lost: once the lease has passed, the same turns are handed out again.
    later, again = _lease(store, Loop.PROBE, now + timedelta(minutes=11))
    assert sorted(i.entry_id for i in again) == ids
    assert _leases(store, ids) == [later] * 3


def test_the_planner_leases_the_most_overdue_first_up_to_its_limit(store, loopback):
    ids = _due_probes(store, loopback, 4)
    now = _now()
    with store.session() as session:
        for age, entry_id in enumerate(ids):  # the last entry is the most overdue
            session.execute(update(Schedule).where(
                Schedule.entry_id == entry_id, Schedule.loop == Loop.PROBE.value)
                .values(next_due_at=now - timedelta(minutes=1 + age)))
    _, leased = _lease(store, Loop.PROBE, now, limit=2)
    assert [i.entry_id for i in leased] == [ids[3], ids[2]]


def test_an_entry_has_one_turn_out_at_a_time(store, loopback):
    """A full verification includes the probe: the two never run for one entry at once."""
    [entry_id] = _due_probes(store, loopback, 1)
    now = _now()
    with store.session() as session:
        session.execute(update(Schedule).where(Schedule.entry_id == entry_id)
                        .values(next_due_at=now - timedelta(minutes=1)))
    assert [i.entry_id for i in _lease(store, Loop.FULL, now)[1]] == [entry_id]
    assert _lease(store, Loop.PROBE, now)[1] == []


# -- verify batches -----------------------------------------------------------------------


async def test_a_batch_stores_its_turns_and_ends_their_leases(store, loopback):
    ids = _due_probes(store, loopback, 5)
    until, items = _lease(store, Loop.PROBE, _now())
    settings = _settings(store)
    async with Checker(check_settings(settings)) as checker:
        report = await run_batch(store, settings, checker,
                                 planning.Batch(Loop.PROBE, until, tuple(items)))
    assert report.stored == 5 and report.outcomes == {"UP": 5}
    assert _checks(store) == Counter(ids)
    assert _leases(store, ids) == [None] * 5
    assert sum(loopback.hits.values()) == 5
    with store.session() as session:  # advanced to the next turn, 15 minutes on
        assert schedules.count_due(session, Loop.PROBE, _now()) == 0


async def test_only_the_lease_holder_stores_a_turn(store, loopback):
    """A job run after its turns were handed to another job stores nothing of them."""
    ids = _due_probes(store, loopback, 4)
    now = _now()
    old_until, items = _lease(store, Loop.PROBE, now, lease_for=timedelta(minutes=10))
    new_until, again = _lease(store, Loop.PROBE, now + timedelta(minutes=11))
    assert len(again) == 4
    late = planning.Batch(Loop.PROBE, old_until, tuple(items))
    current = planning.Batch(Loop.PROBE, new_until, tuple(again))
    settings = _settings(store)
    async with Checker(check_settings(settings)) as checker:
        stale_report = await run_batch(store, settings, checker, late)
        report = await run_batch(store, settings, checker, current)
    assert stale_report.stored == 0 and stale_report.taken == 4
    assert report.stored == 4
    assert _checks(store) == Counter(ids)  # one check each, from the lease holder
    assert sum(loopback.hits.values()) == 4  # and the late job did not even send a request


async def test_a_batch_run_again_does_only_what_is_left(store, loopback):
    """What a worker killed mid-batch stored stays stored; the retried job does the rest."""
    ids = _due_probes(store, loopback, 6)
    until, items = _lease(store, Loop.PROBE, _now())
    settings = _settings(store)
    async with Checker(check_settings(settings)) as checker:
        await run_batch(store, settings, checker, planning.Batch(Loop.PROBE, until,
                                                                 tuple(items[:2])))
        retried = await run_batch(store, settings, checker,
                                  planning.Batch(Loop.PROBE, until, tuple(items)))
    assert retried.taken == 2 and retried.stored == 4
    assert _checks(store) == Counter(ids)


async def test_a_batch_near_the_end_of_its_lease_gives_its_turns_back(store, loopback):
    ids = _due_probes(store, loopback, 3)
    until, items = _lease(store, Loop.PROBE, _now(), lease_for=timedelta(seconds=30))
    settings = _settings(store)
    async with Checker(check_settings(settings)) as checker:
        report = await run_batch(store, settings, checker,
                                 planning.Batch(Loop.PROBE, until, tuple(items)),
                                 stop_before_end=timedelta(minutes=1))
    assert report.stored == 0
    assert sum(loopback.hits.values()) == 0
    assert _leases(store, ids) == [None] * 3  # the next planning round hands them out
    assert len(_lease(store, Loop.PROBE, _now())[1]) == 3


# -- the in-process implementation ----------------------------------------------------------


async def test_in_process_jobs_plan_and_verify_every_due_turn_once(store, loopback):
    ids = _due_probes(store, loopback, 12)
    async with InProcessJobs(store, _settings(store), at_once=2, batch_size=5) as jobs:
        await jobs.submit(Job.plan())
        assert await jobs.depth() == QueueDepth(waiting=1, running=0)
        assert local_depth() == QueueDepth(waiting=1, running=0)
        await jobs.drain()
        await jobs.submit(Job.plan())  # nothing is due any more: nothing is checked again
        await jobs.drain()
        assert await jobs.depth() == QueueDepth()
        assert (jobs.done, jobs.failed) == (5, 0)  # two plans, three batches of 5, 5 and 2
    assert _checks(store) == Counter(ids)
    assert loopback.hits == Counter({f"/api/{i}": 1 for i in range(12)})
    with store.session() as session:
        scored = session.scalars(select(Entry.state).where(Entry.id.in_(ids))).all()
    assert set(scored) == {"VERIFIED"}


async def test_a_failing_in_process_job_does_not_stop_the_others(store, loopback):
    ids = _due_probes(store, loopback, 2)
    async with InProcessJobs(store, _settings(store)) as jobs:
        await jobs.submit(Job.harvest("no-such-source"), Job.plan(), Job.retention())
        await jobs.drain()
        assert (jobs.done, jobs.failed) == (3, 1)  # plan, its batch, retention; the harvest
    assert _checks(store) == Counter(ids)
    assert local_depth() == QueueDepth()  # a closed runner no longer counts


# -- the queue's side of submitting (PostgreSQL) --------------------------------------------


@pytest.mark.postgresql_only("procrastinate's queue lives in PostgreSQL")
async def test_queue_jobs_are_stored_with_their_locks(store):
    from eurodex.jobs.queue import QueueJobs, jobs_by_status

    backends.require_postgresql()
    batch = planning.Batch(Loop.PROBE, _now(), ())
    async with QueueJobs.open(store.url) as jobs:
        await jobs.submit(Job(JobKind.VERIFY, batch.to_args()),
                          Job(JobKind.VERIFY, batch.to_args()), Job.score([1, 2]))
        # A job with a queueing lock waits once: the second of each is not queued.
        await jobs.submit(Job.plan(), Job.plan(), Job.harvest("a"), Job.harvest("a"),
                          Job.harvest("b"))
        assert await jobs.depth() == QueueDepth(waiting=6, running=0)
    with store.session() as session:
        assert jobs_by_status(session) == {"todo": 6}
        names = Counter(session.scalars(text("SELECT task_name FROM procrastinate_jobs")))
    assert names == Counter({"eurodex.verify": 2, "eurodex.score": 1, "eurodex.plan": 1,
                             "eurodex.harvest": 2})



def test_a_worker_refuses_to_start_without_the_postgresql_queue(tmp_path):
    env = {**os.environ, "EURODEX_DATABASE_URL": f"sqlite:///{tmp_path / 'eurodex.db'}"}
    result = subprocess.run([sys.executable, "-m", "eurodex.cli", "worker"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "needs the PostgreSQL queue" in result.stdout
    assert not (tmp_path / "eurodex.db").exists()  # nothing was created on the way out
