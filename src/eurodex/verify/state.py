"""The entry state machine (methodology 4): UNVERIFIED, VERIFIED, STALE, FAILING.

Pure functions over a small snapshot, so the rules can be tested without a database and the
same code serves the one-shot check, the rolling loops and the display of a page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from eurodex.model import CheckResult, Outcome, State

FAILURES_FOR_FAILING = 3
STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class StateSnapshot:
    state: State = State.UNVERIFIED
    consecutive_failures: int = 0
    last_check_at: datetime | None = None
    last_success_at: datetime | None = None
    last_outcome: Outcome | None = None


def apply_check(snapshot: StateSnapshot, result: CheckResult) -> StateSnapshot:
    """The state after ``result``; INCONCLUSIVE changes nothing but the time of the last check."""
    checked = replace(snapshot, last_check_at=result.started_at, last_outcome=result.outcome)
    if result.outcome is Outcome.INCONCLUSIVE:
        return checked
    if result.outcome.is_success:
        return replace(
            checked,
            state=State.VERIFIED,
            consecutive_failures=0,
            last_success_at=result.started_at,
        )
    failures = snapshot.consecutive_failures + 1
    state = State.FAILING if failures >= FAILURES_FOR_FAILING else snapshot.state
    return replace(checked, state=state, consecutive_failures=failures)


def effective_state(snapshot: StateSnapshot, now: datetime) -> State:
    """VERIFIED turns STALE once the latest success is older than the staleness threshold."""
    if snapshot.state in (State.VERIFIED, State.STALE):
        if snapshot.last_success_at is None or now - snapshot.last_success_at > STALE_AFTER:
            return State.STALE
        return State.VERIFIED
    return snapshot.state
