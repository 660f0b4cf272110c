"""The full-verification step for datasets: check every distribution URL (methodology 4).

Each distribution's outcome (UP, UP_AUTH, DOWN with its reason, INCONCLUSIVE) is stored on
its row, so the entry page shows which files and services answer. The checks go through
the full verification's Checker: the same address guard, politeness and HEAD-then-GET rules
as every other check. The entry's own state is the probe's business and is not changed here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from eurodex.model import CheckResult, Kind
from eurodex.store.db import Store
from eurodex.store.distributions import record_distribution_check
from eurodex.store.tables import Distribution, Entry
from eurodex.verify.check import Checker

MAX_DISTRIBUTIONS = 200  # a dataset with thousands of files is checked in its first 200


def _urls(store: Store, entry_id: int) -> list[tuple[int, str]]:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        if entry is None or Kind(entry.kind) is not Kind.DATASET:
            return []
        rows = session.execute(
            select(Distribution.id, Distribution.url).where(Distribution.entry_id == entry_id)
            .order_by(Distribution.source_id, Distribution.position)
            .limit(MAX_DISTRIBUTIONS)).all()
        return [(row_id, url) for row_id, url in rows]


def _store(store: Store, results: list[tuple[int, CheckResult]]) -> None:
    with store.session() as session:
        for row_id, result in results:
            row = session.get(Distribution, row_id)
            if row is not None:
                record_distribution_check(session, row, result)


async def check_distributions(store: Store, entry_id: int, checker: Checker) -> None:
    """Check each distribution of a dataset once, then store every outcome together."""
    targets = await asyncio.to_thread(_urls, store, entry_id)
    if not targets:
        return
    results = await asyncio.gather(*(checker.check(url) for _, url in targets))
    await asyncio.to_thread(_store, store, list(zip((i for i, _ in targets), results,
                                                    strict=True)))
