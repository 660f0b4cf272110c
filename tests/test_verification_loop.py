"""The rolling loops (methodology 4) on a real SQLite database and real loopback servers:
state through the store, spread and phase of the schedules, rounds of due work, full
verification, a process killed mid-round, and the loops running inside the web app."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, text
from werkzeug import Request, Response

from eurodex import pipeline
from eurodex.model import Kind, Outcome, Status
from eurodex.schema.openapi import capture_openapi
from eurodex.store import repository as repo
from eurodex.store import schedules
from eurodex.store.db import Store
from eurodex.store.events import events_for
from eurodex.store.tables import Check, CheckRollup, Entry, Schedule
from eurodex.verify import full as full_module
from eurodex.verify.cadence import Loop, first_due, next_due, phase
from eurodex.verify.check import Checker
from eurodex.verify.round import check_settings
from eurodex.verify.scheduler import (
    ensure_all_schedules,
    mark_stale_now,
    run_tick,
    verify_due,
)
from eurodex.web.app import create_app

from .verify_support import (
    host,
    hours_ago,
    loop_settings,
    make_entries,
    now_utc,
    overrides,
    record,
)

EURODEX = [sys.executable, "-m", "eurodex.cli"]
PERIOD = timedelta(minutes=15)


@pytest.fixture
def loopback():
    """A threaded loopback HTTP server; handlers answer by the Host header's API number."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _api_number(request: Request) -> int:
    return int(request.host.split(".")[0].removeprefix("api"))


def _entry(store, entry_id) -> Entry:
    with store.session() as session:
        return session.get(Entry, entry_id)


def _check_counts(store) -> Counter:
    with store.session() as session:
        return Counter(session.scalars(select(Check.entry_id)).all())


# -- the state machine, through the store ---------------------------------------------------


def test_three_down_make_failing_and_one_up_restores_verified(store):
    (entry_id,) = make_entries(store, 1)
    record(store, entry_id, Outcome.UP, hours_ago(2))
    record(store, entry_id, Outcome.DOWN, hours_ago(1.5))
    entry = record(store, entry_id, Outcome.DOWN, hours_ago(1.25))
    assert (entry.state, entry.consecutive_failures) == ("VERIFIED", 2)
    entry = record(store, entry_id, Outcome.DOWN, hours_ago(1))
    assert (entry.state, entry.consecutive_failures) == ("FAILING", 3)
    entry = record(store, entry_id, Outcome.UP, hours_ago(0.5))
    assert (entry.state, entry.consecutive_failures, entry.last_outcome) == ("VERIFIED", 0, "UP")


def test_inconclusive_changes_nothing(store):
    (entry_id,) = make_entries(store, 1)
    record(store, entry_id, Outcome.UP, hours_ago(3))
    before = record(store, entry_id, Outcome.DOWN, hours_ago(2))
    after = record(store, entry_id, Outcome.INCONCLUSIVE, hours_ago(1))
    assert (after.state, after.consecutive_failures, after.last_success_at) == (
        before.state, before.consecutive_failures, before.last_success_at)
    with store.session() as session:
        kinds = sorted(e.kind for e in events_for(session, entry_id))
        assert kinds == ["new_entry", "state_change"]


def test_a_last_success_25_hours_old_makes_stale(store):
    recorded, waited = make_entries(store, 2)
    # A success recorded 25 h late is STALE as soon as it is stored ...
    assert record(store, recorded, Outcome.UP, hours_ago(25)).state == "STALE"
    # ... and a success 23 h ago turns STALE two hours later with no new check at all.
    assert record(store, waited, Outcome.UP, hours_ago(23)).state == "VERIFIED"
    assert mark_stale_now(store, now_utc() + timedelta(minutes=30)) == []
    assert mark_stale_now(store, now_utc() + timedelta(hours=2)) == [waited]
    assert _entry(store, waited).state == "STALE"
    with store.session() as session:
        stale_event = events_for(session, waited)[0]
    assert (stale_event.kind, stale_event.detail["from"], stale_event.detail["to"]) == (
        "state_change", "VERIFIED", "STALE")
    assert mark_stale_now(store, now_utc() + timedelta(hours=3)) == []  # said once
    # One success brings it back.
    assert record(store, waited, Outcome.UP, now_utc()).state == "VERIFIED"


# -- schedules: spread, phase, due selection ---------------------------------------------------


@pytest.mark.parametrize("ids", [range(1, 1001), range(7, 3007, 3), range(500, 540)])
def test_first_due_times_are_spread_evenly_over_the_period(ids):
    now = now_utc()
    buckets = Counter()
    for entry_id in ids:
        offset = first_due(entry_id, Loop.PROBE, now, PERIOD) - now
        assert timedelta(0) <= offset < PERIOD
        buckets[int(offset / PERIOD * 10)] += 1
    share = len(ids) / 10
    assert len(buckets) == 10
    assert max(buckets.values()) <= share * 1.25 + 1, buckets
    assert first_due(42, Loop.PROBE, now, PERIOD) == first_due(42, Loop.PROBE, now, PERIOD)
    assert phase(42, Loop.PROBE) != phase(42, Loop.FULL)


def test_schedules_of_new_entries_are_spread_through_the_store(store):
    ids = make_entries(store, 200)
    now = now_utc()
    settings = loop_settings(store)
    assert ensure_all_schedules(store, settings, now) == 400  # a probe and a full each
    assert ensure_all_schedules(store, settings, now) == 0  # no entry twice
    with store.session() as session:
        dues = session.scalars(select(Schedule.next_due_at).where(Schedule.loop == "probe")).all()
    buckets = Counter(int((d - now) / PERIOD * 10) for d in dues)
    assert sorted(buckets) == list(range(10))
    assert max(buckets.values()) <= 25, buckets
    assert len(ids) == 200


def test_next_due_keeps_the_phase_and_skips_missed_turns():
    due = now_utc().replace(microsecond=0)
    assert next_due(due, due + timedelta(minutes=4), PERIOD) == due + PERIOD
    # 20 minutes late: still one period after the previous due time (a catch-up turn).
    assert next_due(due, due + timedelta(minutes=20), PERIOD) == due + 2 * PERIOD
    # Hours late: the missed turns are skipped, the phase is kept.
    late = next_due(due, due + timedelta(hours=5, minutes=7), PERIOD)
    assert late > due + timedelta(hours=5, minutes=7)
    assert late - due == 21 * PERIOD
    assert next_due(due, due + PERIOD, PERIOD) == due + 2 * PERIOD


def test_due_selection_orders_by_due_time_and_skips_what_is_not_checked(store):
    apis = make_entries(store, 5)
    dataset = make_entries(store, 1, kind=Kind.DATASET)
    rejected = make_entries(store, 1, status=Status.REJECTED)
    assert len(set(apis + dataset + rejected)) == 7
    t0 = now_utc()
    ensure_all_schedules(store, loop_settings(store), t0)
    with store.session() as session:
        due = schedules.due(session, Loop.PROBE, t0 + PERIOD)
        assert [i.entry_id for i in due] == sorted(apis, key=lambda i: phase(i, Loop.PROBE))
        assert [i.due_at for i in due] == sorted(i.due_at for i in due)
        assert len(schedules.due(session, Loop.PROBE, t0 + PERIOD, limit=2)) == 2
        assert schedules.due(session, Loop.PROBE, t0 - timedelta(seconds=1)) == []
        full = {i.entry_id for i in schedules.due(session, Loop.FULL, t0 + timedelta(hours=6))}
        assert full == set(apis) | set(dataset)  # datasets: full verification only
        assert schedules.count_due(session, Loop.PROBE, t0 + PERIOD) == 5


# -- rounds against loopback servers ------------------------------------------------------------


def _answer_by_number(codes: dict[int, int]):
    def answer(request: Request) -> Response:
        return Response("ok", status=codes.get(_api_number(request), 200),
                        content_type="text/plain")
    return answer


async def test_a_probe_round_checks_what_is_due_and_advances_it(store, loopback):
    loopback.expect_request("/health").respond_with_handler(
        _answer_by_number({1: 503, 2: 401}))
    ids = make_entries(store, 4, base_url=lambda i: f"http://{host(i)}:{loopback.port}/health")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 4))
    start = now_utc() - PERIOD  # every first due time is already past
    ensure_all_schedules(store, settings, start)
    with store.session() as session:
        before = {s.entry_id: s.next_due_at for s in session.scalars(
            select(Schedule).where(Schedule.loop == "probe"))}

    now = now_utc()
    report = await verify_due(store, settings, Loop.PROBE, now)
    assert (report.due, report.checked, report.taken) == (4, 4, 0)
    assert report.outcomes == {"UP": 2, "DOWN": 1, "UP_AUTH": 1}
    assert _check_counts(store) == dict.fromkeys(ids, 1)
    with store.session() as session:
        for s in session.scalars(select(Schedule).where(Schedule.loop == "probe")):
            assert s.next_due_at == before[s.entry_id] + PERIOD  # the phase is kept
            assert s.last_run_at is not None and s.last_run_at >= now
        assert session.get(Entry, ids[1]).consecutive_failures == 1
        assert session.get(Entry, ids[2]).state == "VERIFIED"

    again = await verify_due(store, settings, Loop.PROBE, now)
    assert (again.due, again.checked) == (0, 0)
    assert sum(_check_counts(store).values()) == 4


async def test_two_runners_on_the_same_turns_store_each_turn_once(store, loopback):
    loopback.expect_request("/").respond_with_data("up")
    ids = make_entries(store, 6, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 6))
    ensure_all_schedules(store, settings, now_utc() - PERIOD)
    now = now_utc()
    first, second = await asyncio.gather(verify_due(store, settings, Loop.PROBE, now),
                                         verify_due(store, settings, Loop.PROBE, now))
    assert first.due == second.due == 6  # both picked every turn ...
    assert first.checked + second.checked == 6  # ... and each turn was stored once
    assert first.taken + second.taken == 6
    assert _check_counts(store) == dict.fromkeys(ids, 1)


async def test_a_tick_refreshes_states_checks_rescores_and_cleans_up(store, loopback):
    loopback.expect_request("/").respond_with_data("up")
    (entry_id,) = make_entries(store, 1, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    record(store, entry_id, Outcome.DOWN, now_utc() - timedelta(days=100))  # retention: goes
    record(store, entry_id, Outcome.DOWN, now_utc() - timedelta(days=10))  # kept
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 1))
    ensure_all_schedules(store, settings, now_utc() - timedelta(hours=6, seconds=1))
    async with Checker(check_settings(settings)) as checker:
        tick = await run_tick(store, settings, checker, retention=True)
    assert (tick.full.checked, tick.probe.due, tick.retention) == (1, 0, 1)
    with store.session() as session:
        assert [c.outcome for c in session.scalars(select(Check).order_by(Check.id))] == [
            "DOWN", "UP"]
        # Re-scored by the tick: the check succeeded (100), capped by 30-day uptime 1 of 2.
        assert repo.score_for(session, entry_id).availability == 50
    assert _entry(store, entry_id).state == "VERIFIED"



async def test_a_tick_rescores_checks_a_killed_round_left_unscored(store):
    """A round re-scores at its end; one killed before then leaves a check no score shows.
    The next tick picks it up although nothing is due."""
    (entry_id,) = make_entries(store, 1, base_url=lambda i: "https://api.example.invalid/")
    pipeline.score(store)
    with store.session() as session:
        assert repo.score_for(session, entry_id).availability == 0  # never checked
    record(store, entry_id, Outcome.UP, now_utc())  # stored, then the round was killed
    settings = loop_settings(store)
    ensure_all_schedules(store, settings, now_utc())  # nothing due for hours
    async with Checker(check_settings(settings)) as checker:
        tick = await run_tick(store, settings, checker)
    assert (tick.full.due, tick.probe.due) == (0, 0)
    with store.session() as session:
        assert repo.score_for(session, entry_id).availability == 100


OPENAPI = {
    "openapi": "3.0.3", "info": {"title": "T", "version": "1"},
    "paths": {"/items": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
}


def _spec(*properties: str) -> str:
    doc = dict(OPENAPI, components={"schemas": {"Item": {
        "type": "object", "properties": {p: {"type": "string"} for p in properties}}}})
    return json.dumps(doc)


async def test_full_verification_recaptures_the_spec_and_records_changes(
        store, loopback, monkeypatch):
    spec = {"body": _spec("a", "b"), "status": 200}
    loopback.expect_request("/").respond_with_data("up")
    loopback.expect_request("/openapi.json").respond_with_handler(
        lambda request: Response(spec["body"], status=spec["status"],
                                 content_type="application/json"))
    base = f"http://{host(0)}:{loopback.port}"
    (entry_id,) = make_entries(store, 1, base_url=lambda i: base + "/",
                               spec_url=lambda i: base + "/openapi.json")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 1))
    steps: list[int] = []

    async def extra_step(store_, entry_id_, checker):
        assert isinstance(checker, Checker)
        steps.append(entry_id_)

    async def broken_step(store_, entry_id_, checker):
        raise RuntimeError("a broken proof page")

    monkeypatch.setattr(full_module, "FULL_VERIFICATION_STEPS", [extra_step, broken_step])

    async with Checker(check_settings(settings)) as checker:
        first = await full_module.full_verify(store, entry_id, checker)
        spec["body"] = _spec("a", "c", "d")
        second = await full_module.full_verify(store, entry_id, checker)
        spec["status"] = 500
        third = await full_module.full_verify(store, entry_id, checker)
        with store.session() as session:
            third_error = repo.schema_for(session, entry_id).refresh_error
        spec["status"], spec["body"] = 200, "{not json"
        fourth = await full_module.full_verify(store, entry_id, checker)

    assert [r.spec for r in (first, second, third, fourth)] == [
        "captured", "changed", "failed", "failed"]
    assert all(r.check.outcome is Outcome.UP for r in (first, second, third, fourth))
    assert steps == [entry_id] * 4
    assert first.step_errors == ["broken_step: a broken proof page"]
    assert _check_counts(store) == {entry_id: 4}  # the broken step lost no check
    with store.session() as session:
        changes = [e.detail for e in events_for(session, entry_id) if e.kind == "schema_change"]
        assert changes[0] == {"added": ["Item.c", "Item.d"], "removed": ["Item.b"],
                              "field_count": 3, "source": base + "/openapi.json"}
        assert len(changes) == 1  # the change; neither the first capture nor a failure
        schema = repo.schema_for(session, entry_id)
    # The failures are recorded beside the schema; the last good capture is kept.
    assert [f["name"] for f in schema.fields] == ["a", "c", "d"]
    assert schema.error is None and schema.captured_from == base + "/openapi.json"
    assert schema.refresh_error and base + "/openapi.json" in schema.refresh_error
    assert third_error and "HTTP 500" in third_error


async def test_replacing_a_schema_captured_from_a_shipped_copy_is_no_change(store, loopback):
    loopback.expect_request("/").respond_with_data("up")
    loopback.expect_request("/openapi.json").respond_with_data(
        _spec("a", "b"), content_type="application/json")
    base = f"http://{host(0)}:{loopback.port}"
    (entry_id,) = make_entries(store, 1, base_url=lambda i: base + "/",
                               spec_url=lambda i: base + "/openapi.json")
    with store.session() as session:  # what a harvest stored from the snapshot's copy
        shipped = capture_openapi(_spec("a"), source="openapi.json")
        repo.save_schema(session, session.get(Entry, entry_id), captured=shipped,
                         captured_from="openapi.json")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 1))
    async with Checker(check_settings(settings)) as checker:
        report = await full_module.full_verify(store, entry_id, checker)
    assert report.spec == "captured"
    with store.session() as session:
        assert [f["name"] for f in repo.schema_for(session, entry_id).fields] == ["a", "b"]
        assert "schema_change" not in [e.kind for e in events_for(session, entry_id)]


async def test_a_spec_shipped_as_a_local_file_is_not_refetched(store, loopback):
    loopback.expect_request("/").respond_with_data("up")
    base = f"http://{host(0)}:{loopback.port}"
    (entry_id,) = make_entries(store, 1, base_url=lambda i: base + "/",
                               spec_url=lambda i: "openapi/api-particulier.yaml")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 1))
    async with Checker(check_settings(settings)) as checker:
        report = await full_module.full_verify(store, entry_id, checker)
    assert report.spec is None and report.check.outcome is Outcome.UP
    assert [r.path for r, _ in loopback.log] == ["/"]


async def test_a_full_turn_includes_the_probe_that_falls_due_with_it(store, loopback):
    loopback.expect_request("/").respond_with_data("up")
    ids = make_entries(store, 3, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    settings = loop_settings(store, host_overrides=overrides(loopback.port, 3))
    ensure_all_schedules(store, settings, now_utc() - timedelta(hours=6, seconds=1))
    now = now_utc()
    full = await verify_due(store, settings, Loop.FULL, now)
    probe = await verify_due(store, settings, Loop.PROBE, now)
    assert (full.due, full.checked, probe.due) == (3, 3, 0)
    assert _check_counts(store) == dict.fromkeys(ids, 1)


# -- a process killed mid-round ---------------------------------------------------------------


def _slow_answer(request: Request) -> Response:
    time.sleep(0.2)
    return Response("slow but up", status=200, content_type="text/plain")


def test_a_process_killed_mid_round_and_restarted_loses_no_check_and_repeats_none(
        tmp_path, loopback):
    loopback.expect_request("/").respond_with_handler(_slow_answer)
    count = 8
    store = Store(f"sqlite:///{tmp_path / 'killed.db'}")
    store.migrate()
    ids = make_entries(store, count, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    # Both loops have every entry due: the schedules were created one full period ago.
    ensure_all_schedules(store, loop_settings(store), now_utc() - timedelta(hours=6, seconds=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=store.url, COLUMNS="200", EURODEX_HOST_OVERRIDES=",".join(
        f"{name}={target}" for name, target in overrides(loopback.port, count).items()))
    command = [*EURODEX, "verify", "--due", "--concurrency", "2"]

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while sum(_check_counts(store).values()) < 3:
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline, "no check landed within 30 s"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=10)
        first.stderr.close()
    assert first.returncode == -signal.SIGKILL
    landed = _check_counts(store)
    assert 3 <= sum(landed.values()) < count, "the round was not interrupted half-way"

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert f"full loop: {count - sum(landed.values())} due" in second.stdout, second.stdout
    assert "probe loop: 0 due" in second.stdout

    assert _check_counts(store) == dict.fromkeys(ids, 1)  # every entry once: none lost or twice
    now = now_utc()
    with store.session() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert session.scalar(select(func.sum(CheckRollup.checks))) == count
        assert schedules.count_due(session, Loop.FULL, now) == 0
        assert schedules.count_due(session, Loop.PROBE, now) == 0
        assert {e.state for e in session.scalars(select(Entry))} == {"VERIFIED"}
    store.dispose()


# -- the loops inside the web process -----------------------------------------------------------


def test_the_web_app_runs_the_loops_when_the_scheduler_is_on(store, loopback, serve):
    loopback.expect_request("/").respond_with_data("up")
    ids = make_entries(store, 3, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    (silent,) = make_entries(store, 1, kind=Kind.DATASET)  # nothing to probe
    with store.session() as session:  # verified long ago, never checked since
        entry = session.get(Entry, silent)
        entry.state, entry.last_success_at = "VERIFIED", hours_ago(30)
    settings = replace(loop_settings(store, host_overrides=overrides(loopback.port, 3)),
                       scheduler=True, scheduler_tick_s=0.1, probe_period_s=0.5,
                       full_period_s=3600)
    with serve(create_app(settings, store)) as served:
        deadline = time.monotonic() + 15
        while min(_check_counts(store).get(i, 0) for i in ids) < 2:
            assert time.monotonic() < deadline, f"checks so far: {_check_counts(store)}"
            time.sleep(0.05)
        body = httpx.get(f"{served.url}/api/v1/entries/test-0/checks").json()
    assert body["state"] == "VERIFIED" and body["total"] >= 2
    assert _entry(store, silent).state == "STALE"  # the tick refreshed it
    with store.session() as session:
        assert all(s.last_run_at is not None for s in session.scalars(
            select(Schedule).where(Schedule.loop == "probe")))


def test_the_scheduler_is_off_unless_asked_for(store, loopback, serve):
    loopback.expect_request("/").respond_with_data("up")
    make_entries(store, 2, base_url=lambda i: f"http://{host(i)}:{loopback.port}/")
    settings = replace(loop_settings(store, host_overrides=overrides(loopback.port, 2)),
                       scheduler_tick_s=0.05, probe_period_s=0.1)
    with serve(create_app(settings, store)):
        time.sleep(0.5)
    assert _check_counts(store) == {}
    assert loopback.log == []
