"""Crash safety: the real ``eurodex`` process killed with SIGKILL at random points.

A harvest and a verification round are each killed at 20 or more random moments (a seeded
``random.Random``: set CRASH_SAFETY_SEED to replay a failure; every assertion message names
the seed and the kill points so far) and restarted. After every kill the SQLite file must pass
``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``, hold every entry committed
before, and hold no row twice; at the end the register must equal what one uninterrupted run
produces (the harvest) or hold exactly one check per entry per turn (the verification).

SIGKILL is the one ending a process cannot clean up after: no ``finally``, no rollback, no
atexit. What survives it is exactly what the code committed, which is what these tests judge.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from eurodex.model import Kind
from eurodex.pipeline import BATCH_RECORDS
from eurodex.search import sqlite_index
from eurodex.store.db import Store
from eurodex.store.tables import Schedule
from eurodex.verify.scheduler import ensure_all_schedules

from .verify_support import host, loop_settings, make_entries, overrides

pytestmark = pytest.mark.sqlite_only("reads the SQLite file the killed process wrote")

EURODEX = [sys.executable, "-m", "eurodex.cli"]
SEED = int(os.environ.get("CRASH_SAFETY_SEED", "20261204"))
KILLS = 20
# The harvested source: 226 APIs, so two write batches of pipeline.BATCH_RECORDS (200),
# publishers, provenance of every field, proofs, scores and the search index's triggers.
SOURCE = "nl-api-register"
FULL_PERIOD = timedelta(hours=6)


def _env(database: Path, **extra: str) -> dict[str, str]:
    """The user's environment without any EURODEX_ setting of the machine, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=f"sqlite:///{database}", COLUMNS="200", **extra)
    return env


@dataclass
class KillLog:
    """Every start of the process and how it ended, for assertion messages."""

    seed: int
    points: list[str] = field(default_factory=list)
    kills: int = 0

    def __str__(self) -> str:
        return (f"seed {self.seed} (CRASH_SAFETY_SEED), {self.kills} kills; "
                f"points: {'; '.join(self.points)}")


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of the test's own (the killed writer's are gone), closed after use."""
    connection = sqlite3.connect(path, timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def _rows(path: Path, sql: str) -> Counter:
    """The rows of ``sql`` as a multiset, so a duplicated row shows as a count of 2."""
    with _db(path) as connection:
        return Counter(connection.execute(sql).fetchall())


def _assert_sound(path: Path, log: KillLog) -> None:
    """The file is an undamaged database whose references and search index agree."""
    if not path.exists():  # killed before the database was created
        return
    with _db(path) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        assert integrity == [("ok",)], f"integrity_check {integrity}; {log}"
        dangling = connection.execute("PRAGMA foreign_key_check").fetchall()
        assert dangling == [], f"foreign_key_check {dangling}; {log}"
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        if "entry_fts" not in tables:  # killed before the migrations were committed
            return
        # FTS5's own consistency check raises on an index that disagrees with its content.
        connection.execute("INSERT INTO entry_fts(entry_fts) VALUES('integrity-check')")
        # The facet counts are kept by triggers, in the writer's transactions.
        kept = dict(((f, v), n) for f, v, n in connection.execute(
            "SELECT facet, value, n FROM facet_totals WHERE n != 0"))
        recounted: Counter = Counter()
        for kind, country, state, institution_type, tier in connection.execute(
                "SELECT kind, country, state, institution_type, tier FROM entry_facets"):
            for facet, value in (("kind", kind), ("country", country), ("state", state),
                                 ("institution_type", institution_type), ("tier", tier)):
                if value is not None:
                    recounted[(facet, value)] += 1
        for key, n in recounted.items():
            assert kept.get(key) == n, f"facet_totals {key}: {kept.get(key)} != {n}; {log}"


# -- migrations -----------------------------------------------------------------------------


def test_migrations_stopped_half_way_leave_nothing_behind(tmp_path, monkeypatch):
    """A kill during the migrations, made deterministic: the last step fails. Every
    migration must be undone with it (the harvest kills below found one that was not: the
    next start failed on "table institutions already exists"), so the next start migrates
    from scratch."""
    path = tmp_path / "migrated.db"
    store = Store(f"sqlite:///{path}")

    def stopped(connection) -> bool:
        raise RuntimeError("stopped after the last migration")

    monkeypatch.setattr(sqlite_index, "repair", stopped)
    with pytest.raises(RuntimeError, match="stopped"):
        store.migrate()
    with _db(path) as connection:
        assert connection.execute("SELECT type, name FROM sqlite_master").fetchall() == []
    monkeypatch.undo()
    store.migrate()
    with _db(path) as connection:
        assert len(connection.execute("SELECT * FROM alembic_version").fetchall()) >= 1
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    store.dispose()


# -- harvest --------------------------------------------------------------------------------

# What a harvest leaves, each as key columns that do not depend on row ids (which differ
# between two databases), compared as multisets against an uninterrupted harvest.
HARVEST_TABLES = {
    "entries": """SELECT e.slug, e.record_id, e.kind, e.name, e.status, e.state, e.base_url,
                         e.country, i.slug FROM entries e
                  LEFT JOIN institutions i ON i.id = e.institution_id""",
    "institutions": "SELECT slug, name, country, type FROM institutions",
    "provenance": """SELECT p.subject, coalesce(e.slug, i.slug), p.field, p.value, s.slug,
                            p.method, p.record_url FROM provenance p
                     JOIN sources s ON s.id = p.source_id
                     LEFT JOIN entries e ON p.subject = 'entry' AND e.id = p.subject_id
                     LEFT JOIN institutions i
                            ON p.subject = 'institution' AND i.id = p.subject_id""",
    "listings": """SELECT e.slug, s.slug, l.record_id, l.missed_harvests FROM listings l
                   JOIN entries e ON e.id = l.entry_id JOIN sources s ON s.id = l.source_id""",
    "proofs": """SELECT e.slug, p.name, p.held, p.points FROM proofs p
                 JOIN entries e ON e.id = p.entry_id""",
    "events": "SELECT e.slug, v.kind FROM events v JOIN entries e ON e.id = v.entry_id",
    "scores": """SELECT e.slug, s.composite, s.tier FROM scores s
                 JOIN entries e ON e.id = s.entry_id""",
    "entry_facets": """SELECT e.slug, f.kind, f.country, f.state, f.institution_type, f.tier
                       FROM entry_facets f JOIN entries e ON e.id = f.entry_id""",
    "facet_totals": "SELECT facet, value, n FROM facet_totals WHERE n != 0",
}


def _harvest(database: Path) -> subprocess.Popen:
    return subprocess.Popen([*EURODEX, "harvest", "--source", SOURCE], env=_env(database),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _record_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with _db(path) as connection:
        if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'entries'").fetchall():
            return set()
        return {r[0] for r in connection.execute("SELECT record_id FROM entries")}


def _assert_whole_records(path: Path, log: KillLog) -> None:
    """Every stored entry was stored whole: its listing, its name's provenance, its
    new_entry event, its search rows; none of them twice."""
    if not _record_ids(path):
        return
    with _db(path) as connection:
        for label, sql in {
            "listing": "SELECT count(*) FROM listings l WHERE l.entry_id = e.id",
            "name provenance": """SELECT count(*) FROM provenance p WHERE p.subject = 'entry'
                                  AND p.subject_id = e.id AND p.field = 'name'""",
            "new_entry event": """SELECT count(*) FROM events v WHERE v.entry_id = e.id
                                  AND v.kind = 'new_entry'""",
            "facet row": "SELECT count(*) FROM entry_facets f WHERE f.entry_id = e.id",
        }.items():
            wrong = connection.execute(
                f"SELECT e.slug, ({sql}) AS n FROM entries e WHERE n != 1").fetchall()
            assert wrong == [], f"entries without exactly one {label}: {wrong[:5]}; {log}"


def _newest_run(path: Path) -> tuple[int, int]:
    """The newest harvest run's id and how many listings it has seen (0, 0 without one)."""
    if not path.exists():
        return 0, 0
    with _db(path) as connection:
        if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'listings'").fetchall():
            return 0, 0
        run = connection.execute("SELECT max(id) FROM harvest_runs").fetchone()[0] or 0
        seen = connection.execute(
            "SELECT count(*) FROM listings WHERE last_seen_run_id = ?", (run,)).fetchone()[0]
        return run, seen


def _harvest_then_kill(path: Path, rng: random.Random, clean_s: float
                       ) -> tuple[subprocess.Popen, str | None]:
    """Start a harvest and kill it at a random point; the point, or None when it ended first.

    Two kinds of point, because a batch of 200 records is built for most of a second and
    committed in a moment: a plain delay (migrations, reading, building the first batch), or
    just after this run's first batch has committed plus up to 300 ms (the second batch,
    relinking, the run's status, scoring).
    """
    before, _ = _newest_run(path)
    process = _harvest(path)
    if rng.random() < 0.4:
        delay = rng.uniform(0.8, 0.8 * clean_s)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            _kill(process)
            return process, f"killed at {delay:.2f} s"
        return process, None
    jitter = rng.uniform(0, 0.3)
    deadline = time.monotonic() + 60
    while True:
        run, seen = _newest_run(path)
        if run > before and seen >= BATCH_RECORDS:
            break
        if process.poll() is not None:
            return process, None
        assert time.monotonic() < deadline, "no batch committed within 60 s"
        time.sleep(0.01)
    time.sleep(jitter)
    if process.poll() is not None:
        return process, None
    _kill(process)
    return process, f"killed {jitter * 1000:.0f} ms after the first batch"


def _killed_harvests(path: Path, kills: int, rng: random.Random, clean_s: float,
                     log: KillLog) -> int:
    """Harvest into ``path`` again and again, killing each run, until ``kills`` kills; after
    each, the file is sound and holds every entry it held before. Returns the runs that
    finished before their kill point."""
    seen: set[str] = set()
    completed = done = 0
    for _ in range(kills + 10):  # a run that finishes before its kill point is no kill
        if done >= kills:
            break
        process, point = _harvest_then_kill(path, rng, clean_s)
        with process:
            output = process.stdout.read()
        if point is None:
            completed += 1
            assert process.returncode == 0, f"{output}; {log}"
            log.points.append("finished")
        else:
            done += 1
            log.kills += 1
            log.points.append(point)
        _assert_sound(path, log)
        _assert_whole_records(path, log)
        now = _record_ids(path)
        assert seen <= now, f"entries lost after a kill: {sorted(seen - now)[:5]}; {log}"
        seen = now
        log.points[-1] += f" ({len(now)} entries)"
    assert done == kills, str(log)
    return completed


def test_a_harvest_killed_at_random_points_ends_as_one_uninterrupted_harvest(tmp_path):
    clean = tmp_path / "clean.db"
    started = time.monotonic()
    with _harvest(clean) as reference:
        out = reference.stdout.read()
    clean_s = time.monotonic() - started
    assert reference.returncode == 0, out
    assert "226 new" in out, out

    # Two databases from scratch, half the kills each (each its own seeded random points):
    # only a first harvest creates entries, so its batches are where a kill could lose or
    # duplicate one.
    logs = [_one_life(tmp_path / f"killed-{life}.db", clean, SEED + life, clean_s)
            for life in (0, 1)]
    assert sum(log.kills for log in logs) >= KILLS, "\n".join(map(str, logs))
    print(*logs, sep="\n")  # shown with -s: where the kills fell


def _one_life(killed: Path, clean: Path, seed: int, clean_s: float) -> KillLog:
    """KILLS / 2 killed harvests into a new database, then one to the end, which must leave
    what the uninterrupted harvest into ``clean`` left."""
    log = KillLog(seed)
    completed = _killed_harvests(killed, KILLS // 2, random.Random(seed), clean_s, log)
    with _harvest(killed) as final:
        out = final.stdout.read()
    assert final.returncode == 0, f"{out}; {log}"
    _assert_sound(killed, log)
    _assert_whole_records(killed, log)
    _assert_same_as_clean(killed, clean, log)
    _assert_runs_recorded(killed, completed, log)
    return log


def _assert_same_as_clean(killed: Path, clean: Path, log: KillLog) -> None:
    for table, sql in HARVEST_TABLES.items():
        got, want = _rows(killed, sql), _rows(clean, sql)
        assert sum(want.values()) > 0, table
        assert got == want, (f"{table}: {sum(got.values())} rows, an uninterrupted harvest "
                             f"{sum(want.values())}; extra {list((got - want).items())[:3]}, "
                             f"missing {list((want - got).items())[:3]}; {log}")


def _assert_runs_recorded(path: Path, completed: int, log: KillLog) -> None:
    """A killed run has no end, and the next harvest of its source marks it ``interrupted``;
    a finished one has its status and end; the last one is a complete harvest."""
    with _db(path) as connection:
        runs = connection.execute(
            "SELECT id, status, started_at, finished_at, new + updated + unchanged "
            "FROM harvest_runs ORDER BY id").fetchall()
    assert 1 <= len(runs) <= KILLS // 2 + completed + 1, f"{runs}; {log}"
    last = runs[-1]
    assert (last[1], last[4]) == ("ok", 226) and last[3] is not None, f"{last}; {log}"
    for run_id, status, started_at, finished_at, _records in runs:
        if finished_at is None:
            assert status == "interrupted", f"run {run_id}: {status} unfinished; {log}"
        else:
            assert status in ("ok", "partial", "failed"), f"run {run_id}: {status}; {log}"
            assert finished_at >= started_at, f"run {run_id}; {log}"
    assert sum(1 for r in runs if r[1] == "ok") >= completed + 1, f"{runs}; {log}"


# -- verification ---------------------------------------------------------------------------

ENTRIES = 90
LATENCY_S = 0.1  # per request: with --concurrency 4 a round of 90 takes several seconds
TURNS = 2
KILLS_PER_TURN = 10


def _slow_answer(request: Request) -> Response:
    time.sleep(LATENCY_S)
    return Response("slow but up", status=200, content_type="text/plain")


@pytest.fixture
def slow_loopback():
    """A threaded loopback HTTP server that answers every request after LATENCY_S."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/").respond_with_handler(_slow_answer)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _stamp(value: str) -> datetime:
    """A time as the store writes it in SQLite (UTC, without a zone)."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass
class Turn:
    """One turn of the full loop: when it began and each entry's due time at its start."""

    number: int
    began: datetime
    due: dict[int, str]  # entry id -> schedules.next_due_at (full loop) as stored


def _schedules(path: Path, loop: str) -> dict[int, str]:
    with _db(path) as connection:
        return dict(connection.execute(
            "SELECT entry_id, next_due_at FROM schedules WHERE loop = ?", (loop,)))


def _checks(path: Path) -> list[tuple[int, datetime]]:
    with _db(path) as connection:
        return [(entry_id, _stamp(at)) for entry_id, at in connection.execute(
            "SELECT entry_id, started_at FROM checks")]


def _assert_turn_consistent(path: Path, turn: Turn, ids: list[int], log: KillLog) -> int:
    """Mid-turn, after a kill: each entry has at most one check of this turn, and it has one
    exactly when its schedule moved on (a check without the move would be repeated, a move
    without the check lost). Returns how many entries this turn has checked so far."""
    _assert_sound(path, log)
    in_turn = Counter(e for e, at in _checks(path) if at >= turn.began)
    twice = {e: n for e, n in in_turn.items() if n > 1}
    assert not twice, f"turn {turn.number}: entries checked twice {twice}; {log}"
    full = _schedules(path, "full")
    assert set(full) == set(ids), f"full schedules of {len(full)} entries; {log}"
    moved = {e for e in ids if full[e] != turn.due[e]}
    assert set(in_turn) == moved, (
        f"turn {turn.number}: checked but still due {sorted(set(in_turn) - moved)}, moved "
        f"on without a check {sorted(moved - set(in_turn))}; {log}")
    with _db(path) as connection:
        checks, rolled = connection.execute(
            "SELECT (SELECT count(*) FROM checks), (SELECT sum(checks) FROM check_rollups)"
        ).fetchone()
        assert checks == (rolled or 0), f"{checks} checks, roll-ups count {rolled}; {log}"
        behind = connection.execute(
            "SELECT e.id FROM entries e WHERE e.last_check_at IS NOT "
            "(SELECT max(c.started_at) FROM checks c WHERE c.entry_id = e.id)").fetchall()
        assert behind == [], f"last_check_at not the latest check: {behind[:5]}; {log}"
        entries = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
        assert entries == len(ids), f"{entries} entries, {len(ids)} made; {log}"
    return len(in_turn)


def _checks_landed(path: Path) -> int:
    with _db(path) as connection:
        return connection.execute("SELECT count(*) FROM checks").fetchone()[0]


def _wait_then_kill(process: subprocess.Popen, path: Path, rng: random.Random) -> str | None:
    """Kill ``process`` at a random point; returns the point, or None when it ended first.

    A third of the points are a plain delay after the start (imports, migrations, schedules,
    selecting the due turns); the others wait for one to six more checks to land and then a
    few milliseconds more, so the kill falls among the workers' commits.
    """
    if rng.random() < 1 / 3:
        delay = rng.uniform(0.05, 1.5)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            _kill(process)
            return f"after {delay:.2f} s"
        return None
    more, jitter = rng.randint(1, 6), rng.uniform(0, 0.08)
    target = _checks_landed(path) + more
    deadline = time.monotonic() + 30
    while _checks_landed(path) < target:
        if process.poll() is not None:
            return None
        assert time.monotonic() < deadline, f"{more} more checks did not land within 30 s"
        time.sleep(0.01)
    time.sleep(jitter)
    if process.poll() is not None:
        return None
    _kill(process)
    return f"{more} checks + {jitter * 1000:.0f} ms"


def _move_clock_one_period(store: Store) -> None:
    """Six hours pass: every due time moves one full period earlier, so each entry falls
    due again exactly as a later clock would make it (its phase kept)."""
    with store.session() as session:
        for schedule in session.scalars(select(Schedule)):
            schedule.next_due_at = schedule.next_due_at - FULL_PERIOD


def test_a_verification_round_killed_at_random_points_checks_each_entry_once_per_turn(
        tmp_path, slow_loopback):
    rng = random.Random(SEED + 1)
    path = tmp_path / "verify.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    port = slow_loopback.port
    # Datasets: full verification checks their URL once a turn, and the uptime probe, which
    # falls due on its own 15-minute phase (so an API may be probed again minutes after its
    # full turn, by design), leaves them alone; "once per turn" is then exact.
    ids = make_entries(store, ENTRIES, kind=Kind.DATASET,
                       base_url=lambda i: f"http://{host(i)}:{port}/")
    # Every entry is due: the schedules were created one full period ago.
    ensure_all_schedules(store, loop_settings(store),
                         datetime.now(UTC) - FULL_PERIOD - timedelta(seconds=1))
    env = _env(path, EURODEX_HOST_OVERRIDES=",".join(
        f"{name}={target}" for name, target in overrides(port, ENTRIES).items()))
    command = [*EURODEX, "verify", "--due", "--concurrency", "4"]
    log = KillLog(SEED + 1)

    for number in range(1, TURNS + 1):
        if number > 1:
            _move_clock_one_period(store)
        turn = Turn(number, datetime.now(UTC), _schedules(path, "full"))
        for _ in range(KILLS_PER_TURN):
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            point = _wait_then_kill(process, path, rng)
            if point is None:  # the round ended by itself before its kill point
                assert process.wait(timeout=30) == 0, str(log)
                log.points.append(f"turn {number}: finished")
                break
            log.kills += 1
            done = _assert_turn_consistent(path, turn, ids, log)
            log.points.append(f"turn {number}: {point} ({done} checked)")

        done = _assert_turn_consistent(path, turn, ids, log)
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert final.returncode == 0, f"{final.stderr}; {log}"
        left = ENTRIES - done
        assert f"full loop: {left} due, {left} checked" in final.stdout, (
            f"{final.stdout}; {log}")
        assert "probe loop: 0 due" in final.stdout, f"{final.stdout}; {log}"
        assert _assert_turn_consistent(path, turn, ids, log) == ENTRIES, str(log)

    assert log.kills >= KILLS, str(log)
    per_entry = Counter(e for e, _at in _checks(path))
    assert per_entry == dict.fromkeys(ids, TURNS), (
        f"checks per entry {Counter(per_entry.values())}; {log}")
    with _db(path) as connection:
        states = connection.execute("SELECT DISTINCT state FROM entries").fetchall()
        assert states == [("VERIFIED",)], f"{states}; {log}"
    store.dispose()
    print(log)  # shown with -s: where the kills fell
