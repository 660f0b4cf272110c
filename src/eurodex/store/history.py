"""Check history (methodology 4): hourly roll-ups, uptime windows, raw checks and retention.

Raw checks are kept 90 days; the hourly roll-ups are kept forever and are what every uptime
figure is computed from, so an uptime or a chart never changes when old raw checks go.
A roll-up is updated in the same transaction as the raw check it counts, so the two can never
disagree, whatever stops the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from eurodex.model import CheckResult
from eurodex.store.tables import Check, CheckRollup

UPTIME_WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
RAW_CHECKS_KEPT = timedelta(days=90)


def hour_of(when: datetime) -> datetime:
    """The UTC hour a moment falls in: the key of its roll-up."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _window_start(now: datetime, window: timedelta) -> datetime:
    """Windows count whole hours: from the hour that holds ``now - window`` onwards."""
    return hour_of(now - window)


# -- roll-ups -----------------------------------------------------------------------------


def add_to_rollup(session: Session, entry_id: int, result: CheckResult) -> None:
    """Count one check in its entry's hourly roll-up (an atomic upsert, safe under races)."""
    latency = result.latency_ms
    values = {
        "entry_id": entry_id,
        "hour": hour_of(result.started_at),
        "checks": 1,
        "decisive": int(result.outcome.is_decisive),
        "successes": int(result.outcome.is_success),
        "total_latency_ms": latency or 0,
        "latency_samples": int(latency is not None),
    }
    counters = ("checks", "decisive", "successes", "total_latency_ms", "latency_samples")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # any other database: read then write inside the caller's transaction
        _add_to_rollup_portably(session, values, counters)
        return
    statement = insert(CheckRollup).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["entry_id", "hour"],
        set_={name: getattr(CheckRollup, name) + statement.excluded[name] for name in counters},
    )
    session.execute(statement)


def _add_to_rollup_portably(session: Session, values: dict, counters: Sequence[str]) -> None:
    row = session.scalar(select(CheckRollup).where(
        CheckRollup.entry_id == values["entry_id"], CheckRollup.hour == values["hour"]))
    if row is None:
        session.add(CheckRollup(**values))
        return
    for name in counters:
        setattr(row, name, getattr(row, name) + values[name])


def rollups_since(session: Session, entry_id: int, since: datetime) -> Sequence[CheckRollup]:
    return session.scalars(
        select(CheckRollup)
        .where(CheckRollup.entry_id == entry_id, CheckRollup.hour >= hour_of(since))
        .order_by(CheckRollup.hour)
    ).all()


# -- uptime -------------------------------------------------------------------------------


def _percent(successes: int | None, decisive: int | None) -> float | None:
    if not decisive:
        return None
    return 100.0 * (successes or 0) / decisive


def uptime(
    session: Session, entry_id: int, window: timedelta, now: datetime | None = None
) -> float | None:
    """Successes / decisive checks over ``window``, in percent; None without decisive checks."""
    since = _window_start(now or datetime.now(UTC), window)
    decisive, successes = session.execute(
        select(func.sum(CheckRollup.decisive), func.sum(CheckRollup.successes))
        .where(CheckRollup.entry_id == entry_id, CheckRollup.hour >= since)
    ).one()
    return _percent(successes, decisive)


def uptime_of_many(
    session: Session, entry_ids: Sequence[int], window: timedelta, now: datetime | None = None
) -> dict[int, float | None]:
    """:func:`uptime` of many entries in one query (an entry without checks is absent)."""
    since = _window_start(now or datetime.now(UTC), window)
    rows = session.execute(
        select(CheckRollup.entry_id, func.sum(CheckRollup.decisive),
               func.sum(CheckRollup.successes))
        .where(CheckRollup.entry_id.in_(entry_ids), CheckRollup.hour >= since)
        .group_by(CheckRollup.entry_id)).all()
    return {entry_id: _percent(successes, decisive) for entry_id, decisive, successes in rows}


def uptimes(
    session: Session, entry_id: int, now: datetime | None = None
) -> dict[str, float | None]:
    """Uptime % over 24 h, 7 d, 30 d and 90 d, read in one query."""
    now = now or datetime.now(UTC)
    columns = []
    for window in UPTIME_WINDOWS.values():
        inside = CheckRollup.hour >= _window_start(now, window)
        columns.append(func.sum(case((inside, CheckRollup.decisive), else_=0)))
        columns.append(func.sum(case((inside, CheckRollup.successes), else_=0)))
    oldest = _window_start(now, max(UPTIME_WINDOWS.values()))
    row = session.execute(
        select(*columns).where(CheckRollup.entry_id == entry_id, CheckRollup.hour >= oldest)
    ).one()
    return {name: _percent(row[2 * i + 1], row[2 * i])
            for i, name in enumerate(UPTIME_WINDOWS)}


def history_hours(session: Session, entry_id: int, now: datetime | None = None) -> float:
    """Hours since the entry's first check: how long this entry has been watched."""
    return history_hours_of_many(session, [entry_id], now).get(entry_id, 0.0)


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:  # min() bypasses the column type on SQLite
        return datetime.fromisoformat(str(when)).replace(tzinfo=UTC)
    return when


def history_hours_of_many(
    session: Session, entry_ids: Sequence[int], now: datetime | None = None
) -> dict[int, float]:
    """:func:`history_hours` of many entries in two queries (an entry without checks is
    absent).

    The first raw check says when watching began, to the second; its roll-up hour would
    start the count up to an hour early, and with it the 30-day uptime cap of methodology 5.
    Raw checks go after 90 days: an entry watched longer counts from its first roll-up hour.
    """
    now = now or datetime.now(UTC)
    first: dict[int, datetime] = {
        entry_id: _as_utc(when) for entry_id, when in session.execute(
            select(CheckRollup.entry_id, func.min(CheckRollup.hour))
            .where(CheckRollup.entry_id.in_(entry_ids)).group_by(CheckRollup.entry_id))}
    for entry_id, when in session.execute(
            select(Check.entry_id, func.min(Check.started_at))
            .where(Check.entry_id.in_(entry_ids)).group_by(Check.entry_id)):
        when = _as_utc(when)
        # A raw check inside the first roll-up hour is the exact start of the history.
        if entry_id not in first or when - first[entry_id] < timedelta(hours=1):
            first[entry_id] = when
    return {entry_id: (now - when).total_seconds() / 3600 for entry_id, when in first.items()}


@dataclass(frozen=True)
class DayStat:
    """One UTC day of roll-ups, as the 90-day chart draws it."""

    day: date
    checks: int
    decisive: int
    successes: int
    mean_latency_ms: float | None

    @property
    def uptime(self) -> float | None:
        return _percent(self.successes, self.decisive)


def daily(
    session: Session, entry_id: int, days: int = 90, now: datetime | None = None
) -> list[DayStat]:
    """The last ``days`` UTC days, oldest first; a day without any check has zero counts."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    sums: dict[date, list[int]] = {}
    for row in rollups_since(session, entry_id, since):
        counts = sums.setdefault(row.hour.date(), [0, 0, 0, 0, 0])
        for i, value in enumerate((row.checks, row.decisive, row.successes,
                                   row.total_latency_ms, row.latency_samples)):
            counts[i] += value
    stats = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        checks, decisive, successes, latency, samples = sums.get(day, [0, 0, 0, 0, 0])
        mean = latency / samples if samples else None
        stats.append(DayStat(day, checks, decisive, successes, mean))
    return stats


# -- raw checks ---------------------------------------------------------------------------


def checks_page(
    session: Session, entry_id: int, *, limit: int, offset: int
) -> tuple[Sequence[Check], int]:
    """Raw checks of one entry, newest first, and how many are kept in all."""
    total = session.scalar(select(func.count()).where(Check.entry_id == entry_id)) or 0
    rows = session.scalars(
        select(Check).where(Check.entry_id == entry_id)
        .order_by(Check.started_at.desc(), Check.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total


def delete_checks_before(session: Session, cutoff: datetime, *, batch: int = 5000) -> int:
    """Delete at most ``batch`` raw checks started before ``cutoff``; returns how many went.

    Batches keep each write transaction short, so pages and checks are not held up by a
    large first clean-up.
    """
    ids = select(Check.id).where(Check.started_at < cutoff).limit(batch).scalar_subquery()
    result = session.execute(delete(Check).where(Check.id.in_(ids)))
    return result.rowcount or 0
