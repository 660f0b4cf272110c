"""A dataset's distributions as each source lists them, and their latest check.

Each source's list replaces that source's previous list on every harvest (a distribution
dropped by the portal is dropped here too, as the portal now describes the dataset), while
a distribution whose URL is unchanged keeps the outcome of its latest check.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.harvest.records import DistributionRecord
from eurodex.model import CheckResult
from eurodex.store.pending import add_row
from eurodex.store.tables import Distribution, Entry, Source

_FIELDS = ("format", "media_type", "byte_size", "title", "licence")


def save_distributions(session: Session, entry: Entry, source: Source,
                       records: Sequence[DistributionRecord], *, fresh: bool = False) -> bool:
    """Replace ``source``'s distributions of ``entry``; True when anything changed.

    A ``fresh`` entry (created in this transaction) has none to compare or replace.
    """
    existing = [] if fresh else list(session.scalars(
        select(Distribution).where(Distribution.entry_id == entry.id,
                                   Distribution.source_id == source.id)
        .order_by(Distribution.position)))
    wanted = [(i, r) for i, r in enumerate(records)]
    same = len(existing) == len(wanted) and all(
        d.url == r.url and d.position == i and all(getattr(d, f) == _clip(f, getattr(r, f))
                                                   for f in _FIELDS)
        for d, (i, r) in zip(existing, wanted, strict=True))
    if same:
        return False
    checks = {d.url: d for d in existing}
    for row in existing:
        session.delete(row)
    if existing:
        session.flush()
    for position, record in wanted:
        before = checks.get(record.url)
        row = {
            "entry_id": entry if fresh else entry.id, "source_id": source.id,
            "position": position,
            "url": stored_url(record.url),
            **{f: _clip(f, getattr(record, f)) for f in _FIELDS},
            "check_outcome": before.check_outcome if before else None,
            "check_reason": before.check_reason if before else None,
            "check_status": before.check_status if before else None,
            "checked_at": before.checked_at if before else None,
        }
        if fresh:  # written with the batch (store.pending)
            add_row(session, Distribution, row)
        else:
            session.add(Distribution(**row))
    return True


def stored_url(url: str) -> str:
    """A distribution URL as the column keeps it."""
    return url[:2000]


def _clip(field: str, value: object) -> object:
    limits = {"format": 100, "media_type": 200, "title": 1000, "licence": 500}
    if isinstance(value, str) and field in limits:
        return value[:limits[field]]
    return value


def distributions_for(session: Session, entry_id: int) -> list[Distribution]:
    """Every distribution of the entry, first source first, in the order it lists them."""
    return list(session.scalars(
        select(Distribution).where(Distribution.entry_id == entry_id)
        .order_by(Distribution.source_id, Distribution.position)))


def first_distribution_url(session: Session, entry_id: int) -> str | None:
    first = next(iter(distributions_for(session, entry_id)), None)
    return first.url if first else None


def record_distribution_check(session: Session, distribution: Distribution,
                              result: CheckResult) -> None:
    distribution.check_outcome = result.outcome.value
    distribution.check_reason = result.reason
    distribution.check_status = result.http_status
    distribution.checked_at = result.started_at
