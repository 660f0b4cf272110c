"""When each entry is due in the two rolling loops (methodology 4), as pure arithmetic.

Both loops are rolling: every entry has its own fixed phase inside the period, so a register
of 10,000 APIs sends about 11 probes a second rather than 10,000 every quarter of an hour.
The phase is a stable function of the entry id, so it survives restarts and never needs to
be stored apart from the next due time.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime, timedelta

from eurodex.model import Kind

# Knuth's multiplicative hashing with the golden ratio: consecutive ids (how the store hands
# them out) land as far from each other as possible, so any number of entries is spread
# almost perfectly evenly over the period, better than a random hash would.
_GOLDEN = (math.sqrt(5) - 1) / 2


class Loop(enum.StrEnum):
    PROBE = "probe"  # the uptime probe: every 15 minutes, APIs only
    FULL = "full"  # full verification: every 6 hours, every entry


DEFAULT_PERIODS: dict[Loop, timedelta] = {
    Loop.PROBE: timedelta(minutes=15),
    Loop.FULL: timedelta(hours=6),
}
# The loops start half a turn apart, so an entry's full verification and its probe do not
# fall due at the same moment more often than chance.
_LOOP_SHIFT = {Loop.PROBE: 0.0, Loop.FULL: 0.5}


def loop_kinds(loop: Loop) -> tuple[Kind, ...]:
    """Which kinds of entry a loop covers: the uptime probe is for APIs (methodology 4)."""
    return (Kind.API,) if loop is Loop.PROBE else (Kind.API, Kind.DATASET)


def phase(entry_id: int, loop: Loop) -> float:
    """The entry's stable position in the loop's period, in [0, 1)."""
    return (entry_id * _GOLDEN + _LOOP_SHIFT[Loop(loop)]) % 1.0


def first_due(entry_id: int, loop: Loop, now: datetime, period: timedelta) -> datetime:
    """When a newly scheduled entry is first due: ``now`` plus its phase of the period."""
    return now + period * phase(entry_id, loop)


def next_due(previous_due: datetime, now: datetime, period: timedelta) -> datetime:
    """The due time after a run: one period after the previous due time.

    A run more than one period late (a machine that slept, a long outage) skips the missed
    turns instead of firing them all at once, and keeps the entry's phase.
    """
    due = previous_due + period
    if due > now:
        return due
    missed = math.floor((now - due) / period) + 1
    return due + period * missed
