"""History (methodology 4): hourly roll-ups written with each check, uptime windows computed
from them, retention of raw checks, the availability axis's 30-day cap, and events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eurodex import pipeline
from eurodex.model import Outcome
from eurodex.store import history
from eurodex.store import repository as repo
from eurodex.store.events import events_for
from eurodex.store.tables import Check, CheckRollup, Entry
from eurodex.verify.retention import delete_old_checks

from .verify_support import hours_ago, make_entries, now_utc, record, result


def _rollups(store, entry_id):
    with store.session() as session:
        return [(r.hour, r.checks, r.decisive, r.successes, r.total_latency_ms,
                 r.latency_samples)
                for r in session.scalars(select(CheckRollup)
                                         .where(CheckRollup.entry_id == entry_id)
                                         .order_by(CheckRollup.hour))]


def test_each_check_is_counted_in_its_hourly_rollup(store):
    (entry_id,) = make_entries(store, 1)
    hour = history.hour_of(hours_ago(5))
    record(store, entry_id, Outcome.UP, hour + timedelta(minutes=1), latency_ms=120)
    record(store, entry_id, Outcome.DOWN, hour + timedelta(minutes=16), latency_ms=None)
    record(store, entry_id, Outcome.INCONCLUSIVE, hour + timedelta(minutes=31), latency_ms=40)
    record(store, entry_id, Outcome.UP_AUTH, hour + timedelta(minutes=75), latency_ms=80)
    assert _rollups(store, entry_id) == [
        (hour, 3, 2, 1, 160, 2),
        (hour + timedelta(hours=1), 1, 1, 1, 80, 1),
    ]


def test_a_rolled_back_check_leaves_no_rollup(store):
    (entry_id,) = make_entries(store, 1)
    with pytest.raises(RuntimeError), store.session() as session:
        repo.record_check(session, session.get(Entry, entry_id), result(Outcome.UP, hours_ago(1)))
        raise RuntimeError("the process stops before the commit")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == 0
        assert session.scalar(select(func.count()).select_from(CheckRollup)) == 0
        assert session.get(Entry, entry_id).state == "UNVERIFIED"


def test_uptime_windows_are_successes_over_decisive_checks_from_rollups(store):
    (entry_id,) = make_entries(store, 1)
    plan = [  # (hours ago, outcome, how many), oldest first
        (100 * 24, Outcome.UP, 10),  # outside every window
        (60 * 24, Outcome.DOWN, 4),  # 90 d only
        (20 * 24, Outcome.UP, 8),  # 30 d and 90 d
        (3 * 24, Outcome.DOWN, 4),  # 7 d and beyond
        (2, Outcome.UP, 3),  # every window
        (2, Outcome.DOWN, 1),
        (1, Outcome.INCONCLUSIVE, 5),  # never decisive
    ]
    for ago, outcome, count in plan:
        for n in range(count):
            record(store, entry_id, outcome, hours_ago(ago) + timedelta(seconds=n))
    with store.session() as session:
        assert history.uptimes(session, entry_id) == {
            "24h": 100 * 3 / 4, "7d": 100 * 3 / 8, "30d": 100 * 11 / 16, "90d": 100 * 11 / 20,
        }
        assert repo.uptime(session, entry_id, timedelta(days=30)) == 100 * 11 / 16
        assert history.history_hours(session, entry_id) >= 100 * 24


def test_uptime_is_unknown_without_a_decisive_check(store):
    (entry_id,) = make_entries(store, 1)
    with store.session() as session:
        assert history.uptimes(session, entry_id) == dict.fromkeys(history.UPTIME_WINDOWS)
        assert history.history_hours(session, entry_id) == 0.0
    record(store, entry_id, Outcome.INCONCLUSIVE, hours_ago(1))
    with store.session() as session:
        assert history.uptimes(session, entry_id)["24h"] is None
        assert abs(history.history_hours(session, entry_id) - 1) < 0.01  # from the check


def test_retention_deletes_raw_checks_past_90_days_and_keeps_rollups(store):
    (entry_id,) = make_entries(store, 1)
    for days, outcome in ((120, Outcome.UP), (91, Outcome.DOWN), (89, Outcome.UP),
                          (0.1, Outcome.UP)):
        record(store, entry_id, outcome, now_utc() - timedelta(days=days))
    rollups_before = _rollups(store, entry_id)
    with store.session() as session:
        hours_before = history.history_hours(session, entry_id)
        uptime_before = history.uptimes(session, entry_id)

    assert delete_old_checks(store, batch=1) == 2  # in batches of one: the loop ends right

    with store.session() as session:
        kept = session.scalars(select(Check.started_at).order_by(Check.started_at)).all()
        assert [round((now_utc() - t).total_seconds() / 86400) for t in kept] == [89, 0]
        # Counted from the first roll-up hour once the first raw check is gone: up to an hour
        # earlier than the check itself, never later.
        assert 0 <= history.history_hours(session, entry_id) - hours_before < 1
        assert history.uptimes(session, entry_id) == uptime_before
    assert _rollups(store, entry_id) == rollups_before
    assert len(rollups_before) == 4
    assert delete_old_checks(store) == 0


def _availability(store, entry_id):
    pipeline.score(store, [entry_id])
    with store.session() as session:
        score = repo.score_for(session, entry_id)
        return score.availability, score.sentences["availability"]


def test_availability_is_capped_by_30_day_uptime_once_24_hours_of_history_exist(store):
    young, old = make_entries(store, 2)
    # The same story for both, one starting 22 h ago, the other 26 h ago: two failures, then
    # a success an hour ago. Latest check succeeded (100), 30-day uptime 1 of 3 = 33.3 %.
    for entry_id, start in ((young, 22), (old, 26)):
        record(store, entry_id, Outcome.DOWN, hours_ago(start))
        record(store, entry_id, Outcome.DOWN, hours_ago(start - 1))
        record(store, entry_id, Outcome.UP, hours_ago(1))
    assert _availability(store, young) == (100, "Latest verification succeeded")
    assert _availability(store, old) == (
        33, "Latest verification succeeded · capped by 30-day uptime 33.3%")


def test_availability_cap_survives_retention_of_raw_checks(store):
    (entry_id,) = make_entries(store, 1)
    record(store, entry_id, Outcome.DOWN, now_utc() - timedelta(days=29))
    record(store, entry_id, Outcome.UP, hours_ago(1))
    # Pretend the raw checks are gone (retention after a shorter keep): roll-ups still count.
    with store.session() as session:
        history.delete_checks_before(session, now_utc())
    assert _availability(store, entry_id) == (
        50, "Latest verification succeeded · capped by 30-day uptime 50.0%")


def test_new_entries_and_state_changes_are_events(store):
    (entry_id,) = make_entries(store, 1)
    record(store, entry_id, Outcome.UP, hours_ago(4))
    record(store, entry_id, Outcome.UP, hours_ago(3.5))  # no change, no event
    for minutes in (180, 170, 160):
        record(store, entry_id, Outcome.DOWN, now_utc() - timedelta(minutes=minutes))
    record(store, entry_id, Outcome.UP, hours_ago(1))
    with store.session() as session:
        # In the order they were written (the new entry's event is stamped now, the
        # state changes with the time of the check that caused them).
        events = sorted(events_for(session, entry_id), key=lambda e: e.id)
        assert [(e.kind, e.detail.get("from"), e.detail.get("to")) for e in events] == [
            ("new_entry", None, None),
            ("state_change", "UNVERIFIED", "VERIFIED"),
            ("state_change", "VERIFIED", "FAILING"),
            ("state_change", "FAILING", "VERIFIED"),
        ]
        assert events[0].detail == {"slug": "test-0", "name": "Test API 0", "kind": "API"}
        assert events[2].detail["consecutive_failures"] == 3
        assert events[2].detail["outcome"] == "DOWN" and events[2].detail["reason"] == "http_5xx"
