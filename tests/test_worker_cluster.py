"""Cluster mode for real: ``eurodex worker`` subprocesses on one PostgreSQL database, checking
a loopback server that records every request it is serving.

Two workers never check one URL at the same time, nor twice for one turn; periodic planning
fires once per tick of its cron however many workers run it; a worker killed with SIGKILL
mid-job has its job taken over by another worker, which stores only what was not stored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.store.tables import Check, Schedule
from eurodex.verify.cadence import Loop
from eurodex.verify.scheduler import ensure_all_schedules

from . import backends
from .verify_support import make_entries

pytestmark = pytest.mark.postgresql_only("cluster mode runs on PostgreSQL's job queue")

EURODEX = [sys.executable, "-m", "eurodex.cli"]
# Fast heartbeats and a short silence before a worker counts as dead, so a takeover takes
# seconds; planning every second.
FAST = ["--plan-every", "1", "--heartbeat", "0.5", "--stalled-after", "2"]


class _Recorder(ThreadingHTTPServer):
    """Answers 200 to every path after ``delay`` seconds; counts requests per path, and the
    most it was serving at once for each path."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.serving: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()

    def handle_error(self, request, client_address) -> None:
        pass  # a killed worker's connections just go away


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, with_body: bool) -> None:
        server, path = self.server, self.path
        with server.lock:
            server.hits[path] += 1
            server.serving[path] += 1
            server.most_at_once[path] = max(server.most_at_once[path], server.serving[path])
        try:
            time.sleep(server.delay)
        finally:
            with server.lock:
                server.serving[path] -= 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if with_body:
                self.wfile.write(b"ok")
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serve(delay: float) -> Iterator[_Recorder]:
    server = _Recorder(delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _Workers:
    """``eurodex worker`` subprocesses, each logging to a file; all stopped at the end."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.env = {**os.environ, "EURODEX_DATABASE_URL": database_url,
                    "EURODEX_ALLOWED_NETWORKS": "127.0.0.0/8"}
        self.folder = folder
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *options: str) -> subprocess.Popen:
        log = (self.folder / f"worker-{name}.log").open("w")
        process = subprocess.Popen([*EURODEX, "worker", "--name", name, *FAST, *options],
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.started[name] = process
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}"
                         for path in sorted(self.folder.glob("worker-*.log")))

    def stop(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for(what: str, condition: Callable[[], bool], workers: _Workers,
              timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{workers.logs()}")
        for name, process in workers.started.items():
            if process.poll() not in (None, -signal.SIGKILL):
                pytest.fail(f"worker {name} exited with {process.returncode}\n"
                            f"{workers.logs()}")
        time.sleep(0.1)


def _scalar(store: Store, sql: str):
    with store.session() as session:
        return session.scalar(text(sql))


def _entries_on(store: Store, server: _Recorder, count: int) -> list[int]:
    """APIs on the loopback server with their schedules, none due yet."""
    port = server.server_address[1]
    ids = make_entries(store, count, base_url=lambda i: f"http://127.0.0.1:{port}/api/{i}")
    ensure_all_schedules(store, Settings(database_url=store.url), datetime.now(UTC))
    with store.session() as session:
        session.execute(update(Schedule).values(
            next_due_at=datetime.now(UTC) + timedelta(days=1)))
    return ids


def _make_probes_due(store: Store) -> None:
    with store.session() as session:
        session.execute(update(Schedule).where(Schedule.loop == Loop.PROBE.value).values(
            next_due_at=datetime.now(UTC) - timedelta(minutes=1)))


def _probes_stored(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Schedule).where(
            Schedule.loop == Loop.PROBE.value, Schedule.last_run_at.is_not(None),
            Schedule.leased_until.is_(None))) or 0


def _checks_per_entry(store: Store) -> Counter[int]:
    with store.session() as session:
        return Counter(session.scalars(select(Check.entry_id)))


def _workers_registered(store: Store) -> int:
    return _scalar(store, "SELECT count(*) FROM procrastinate_workers")


# -- two workers side by side -------------------------------------------------------------


class _PairRun:
    """What two workers did with 60 due probes, looked at by the tests below."""

    def __init__(self, store: Store, server: _Recorder, ids: list[int], started: float,
                 ended: float, verify_workers: int) -> None:
        self.store, self.server, self.ids = store, server, ids
        self.started, self.ended = started, ended
        self.verify_workers = verify_workers


@pytest.fixture(scope="module")
def pair(schema_template, tmp_path_factory) -> Iterator[_PairRun]:
    backends.require_postgresql()
    folder = tmp_path_factory.mktemp("pair")
    with backends.fresh_database("cluster", schema_template) as name:
        store = Store(backends.url(name))
        try:
            with _serve(delay=0.3) as server:
                ids = _entries_on(store, server, 60)
                workers = _Workers(store.url, folder)
                try:
                    for worker in ("a", "b"):
                        workers.start(worker, "--batch-size", "5", "--jobs", "2",
                                      "--concurrency", "2")
                    _wait_for("both workers", lambda: _workers_registered(store) == 2,
                              workers)
                    started = time.time()
                    _make_probes_due(store)
                    _wait_for("every due probe stored", lambda: _probes_stored(store) == 60,
                              workers)
                    # Planning keeps firing every second while the workers run on.
                    _wait_for("eight planning rounds", lambda: _scalar(
                        store, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                        "'eurodex.plan' AND status = 'succeeded'") >= 8, workers)
                    verify_workers = _scalar(
                        store, "SELECT count(DISTINCT worker_id) FROM procrastinate_jobs "
                        "WHERE task_name = 'eurodex.verify' AND status = 'succeeded'")
                finally:
                    workers.stop()
                yield _PairRun(store, server, ids, started, time.time(), verify_workers)
        finally:
            store.dispose()


def test_two_workers_never_check_one_url_at_once(pair: _PairRun):
    assert pair.verify_workers == 2  # both took verify jobs: the work was shared
    paths = {f"/api/{i}" for i in range(60)}
    assert set(pair.server.hits) == paths
    assert max(pair.server.most_at_once.values()) == 1
    # Nor twice for one turn: planning every second never handed a leased turn out again.
    assert set(pair.server.hits.values()) == {1}
    assert _checks_per_entry(pair.store) == Counter(pair.ids)


def test_periodic_planning_fires_once_per_tick_with_two_workers(pair: _PairRun):
    with pair.store.session() as session:
        plans = session.execute(text(
            "SELECT (args->>'timestamp')::bigint FROM procrastinate_jobs "
            "WHERE task_name = 'eurodex.plan'")).scalars().all()
        runs = session.execute(text(
            "SELECT min(e.at) FILTER (WHERE e.type = 'started'), "
            "max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed')) "
            "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
            "WHERE j.task_name = 'eurodex.plan' GROUP BY j.id ORDER BY 1")).all()
    assert len(plans) >= 8
    assert len(set(plans)) == len(plans)  # one job per timestamp, not one per worker
    # Every second at most once: no more rounds than seconds the workers were running.
    assert len(plans) <= (max(plans) - min(plans)) + 1
    # The planning lock: no round ever started before the previous one had ended.
    finished = [(start, end) for start, end in runs if start is not None]
    for (_, end), (start, _) in zip(finished, finished[1:], strict=False):
        assert end is not None and start >= end


# -- a worker killed mid-job --------------------------------------------------------------


def test_a_killed_workers_job_is_taken_over_by_another(store, tmp_path):
    backends.require_postgresql()
    with _serve(delay=0.4) as server:
        ids = _entries_on(store, server, 12)
        workers = _Workers(store.url, tmp_path)
        try:
            # One job of 12 turns, one check at a time: about 5 s of work.
            options = ("--batch-size", "100", "--jobs", "1", "--concurrency", "1")
            first = workers.start("first", *options)
            _wait_for("the first worker", lambda: _workers_registered(store) == 1, workers)
            _make_probes_due(store)
            _wait_for("three turns stored", lambda: _probes_stored(store) >= 3, workers)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            stored_by_first = _checks_per_entry(store)
            hits_before = Counter(server.hits)
            killed_at = time.monotonic()
            assert len(stored_by_first) < 12  # it really was killed mid-job

            workers.start("second", *options)
            _wait_for("every turn stored", lambda: _probes_stored(store) == 12, workers)
            took = time.monotonic() - killed_at
        finally:
            workers.stop()
    # Stored once each: nothing lost, nothing stored twice.
    assert _checks_per_entry(store) == Counter(ids)
    # The same job, queued again once its worker fell silent, finished by the other worker;
    # not a new one planned after the turns' 10-minute leases ran out.
    with store.session() as session:
        jobs = session.execute(text(
            "SELECT status::text, attempts FROM procrastinate_jobs "
            "WHERE task_name = 'eurodex.verify'")).all()
    assert len(jobs) == 1
    assert jobs[0].status == "succeeded" and jobs[0].attempts >= 1
    assert took < 40
    # What the first worker had stored was not checked again.
    stored_paths = {f"/api/{ids.index(entry_id)}" for entry_id in stored_by_first}
    assert all(server.hits[path] == hits_before[path] == 1 for path in stored_paths)
