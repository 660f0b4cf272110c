"""Landing the result of one verification in the store, as one transaction.

The check row, its hourly roll-up, the entry's new state, the events, a re-captured schema
and the schedule's advance are committed together. The schedule advance is a compare-and-set
(``store.schedules.advance``): when it finds the turn already taken by another runner,
everything is rolled back, so a turn is stored once or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from eurodex.model import CheckResult
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.spec_refresh import SpecRefresh, apply_spec_refresh

# Runs inside the transaction after everything else; False means "this turn was already
# stored elsewhere": the transaction is rolled back.
AlsoInTransaction = Callable[[Session], bool]


class TurnTaken(Exception):
    """Another runner stored this turn first; this one's results are dropped."""


def store_outcome(
    store: Store,
    entry_id: int,
    check: CheckResult | None,
    *,
    spec: SpecRefresh | None = None,
    also: AlsoInTransaction | None = None,
) -> str | None:
    """Store what a verification found; returns the spec outcome, or None without a spec.

    Raises :class:`TurnTaken` (having stored nothing) when ``also`` declines.
    """
    spec_outcome = None
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        if entry is None:  # deleted meanwhile: nothing to record against
            return None
        if check is not None:
            repo.record_check(session, entry, check)
        if spec is not None:
            spec_outcome = apply_spec_refresh(session, entry, spec, datetime.now(UTC))
        if also is not None and not also(session):
            raise TurnTaken(entry.slug)
    return spec_outcome
