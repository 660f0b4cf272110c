"""The entry state machine of methodology 4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eurodex.model import CheckResult, Outcome, State
from eurodex.verify.state import StateSnapshot, apply_check, effective_state

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def result(outcome: Outcome, at: datetime = T0) -> CheckResult:
    return CheckResult(url="https://x.gouv.fr", started_at=at, method="HEAD", outcome=outcome)


def run(*outcomes: Outcome, start: StateSnapshot | None = None) -> StateSnapshot:
    snapshot = start or StateSnapshot()
    for i, outcome in enumerate(outcomes):
        snapshot = apply_check(snapshot, result(outcome, T0 + timedelta(minutes=15 * i)))
    return snapshot


def test_never_checked_is_unverified():
    assert StateSnapshot().state is State.UNVERIFIED


def test_one_success_verifies():
    assert run(Outcome.UP).state is State.VERIFIED
    assert run(Outcome.UP_AUTH).state is State.VERIFIED


def test_three_down_in_a_row_make_failing_and_one_up_restores():
    two = run(Outcome.UP, Outcome.DOWN, Outcome.DOWN)
    assert (two.state, two.consecutive_failures) == (State.VERIFIED, 2)
    three = run(Outcome.UP, Outcome.DOWN, Outcome.DOWN, Outcome.DOWN)
    assert (three.state, three.consecutive_failures) == (State.FAILING, 3)
    back = run(Outcome.UP, start=three)
    assert (back.state, back.consecutive_failures) == (State.VERIFIED, 0)


def test_inconclusive_changes_nothing():
    two = run(Outcome.UP, Outcome.DOWN, Outcome.DOWN)
    after = run(Outcome.INCONCLUSIVE, Outcome.INCONCLUSIVE, start=two)
    assert (after.state, after.consecutive_failures, after.last_success_at) == (
        two.state, two.consecutive_failures, two.last_success_at)
    assert run(Outcome.INCONCLUSIVE).state is State.UNVERIFIED
    # The failures on either side of an inconclusive check still add up.
    assert run(Outcome.DOWN, start=after).state is State.FAILING


def test_a_success_older_than_24_hours_is_stale():
    verified = run(Outcome.UP)
    assert effective_state(verified, T0 + timedelta(hours=23)) is State.VERIFIED
    assert effective_state(verified, T0 + timedelta(hours=25)) is State.STALE
    failing = run(Outcome.DOWN, Outcome.DOWN, Outcome.DOWN)
    assert effective_state(failing, T0 + timedelta(days=3)) is State.FAILING
