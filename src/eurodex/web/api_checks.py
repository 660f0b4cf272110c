"""``/api/v1/entries/{slug}/checks``: the evidence behind an entry's state and uptime.

Raw checks (kept 90 days) are paged newest first; hourly roll-ups (kept forever) cover a
window of days; uptime % over 24 h, 7 d, 30 d and 90 d comes from the roll-ups, so it is the
same figure the availability axis was scored with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from eurodex.store import history
from eurodex.store import repository as repo
from eurodex.web.api import _visible
from eurodex.web.params import CheckOffset, Limit

router = APIRouter(prefix="/api/v1", tags=["entries"])


class CheckRecord(BaseModel):
    """One check of one URL, as stored (methodology 4)."""

    url: str
    started_at: datetime
    method: str
    http_status: int | None
    latency_ms: int | None
    outcome: str = Field(description="UP, UP_AUTH, INCONCLUSIVE or DOWN")
    reason: str | None = Field(description="machine-readable reason of a DOWN or INCONCLUSIVE")
    error: str | None
    bytes_read: int
    tls_expires_at: datetime | None


class HourlyRollup(BaseModel):
    hour: datetime = Field(description="start of the UTC hour")
    checks: int
    decisive: int
    successes: int
    uptime: float | None = Field(description="successes / decisive checks, percent")
    mean_latency_ms: float | None


class EntryChecks(BaseModel):
    slug: str
    state: str = Field(description="the state now: VERIFIED turns STALE after 24 h")
    last_check_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    uptime: dict[str, float | None] = Field(
        description="percent over 24h, 7d, 30d and 90d; null without a decisive check")
    history_hours: float
    total: int = Field(description="raw checks kept (the last 90 days)")
    limit: int
    offset: int
    checks: list[CheckRecord]
    days: int
    rollups: list[HourlyRollup]


@router.get("/entries/{slug}/checks", response_model=EntryChecks)
def get_entry_checks(
    request: Request,
    slug: str,
    limit: Limit = 50,
    offset: CheckOffset = 0,
    days: int = Query(90, ge=1, le=366, description="days of hourly roll-ups"),
) -> EntryChecks:
    """Raw checks (paged, newest first), hourly roll-ups and uptime % of one entry."""
    now = repo.now_utc()
    with request.app.state.store.session() as session:
        entry = _visible(repo.entry_by_slug(session, slug))
        rows, total = history.checks_page(session, entry.id, limit=limit, offset=offset)
        rollups = history.rollups_since(session, entry.id, now - timedelta(days=days))
        return EntryChecks(
            slug=entry.slug,
            state=repo.current_state(entry, now).value,
            last_check_at=entry.last_check_at,
            last_success_at=entry.last_success_at,
            consecutive_failures=entry.consecutive_failures,
            uptime=history.uptimes(session, entry.id, now),
            history_hours=round(history.history_hours(session, entry.id, now), 2),
            total=total, limit=limit, offset=offset,
            checks=[CheckRecord(
                url=c.url, started_at=c.started_at, method=c.method, http_status=c.http_status,
                latency_ms=c.latency_ms, outcome=c.outcome, reason=c.reason, error=c.error,
                bytes_read=c.bytes_read, tls_expires_at=c.tls_expires_at) for c in rows],
            days=days,
            rollups=[HourlyRollup(
                hour=r.hour, checks=r.checks, decisive=r.decisive, successes=r.successes,
                uptime=100.0 * r.successes / r.decisive if r.decisive else None,
                mean_latency_ms=(r.total_latency_ms / r.latency_samples
                                 if r.latency_samples else None)) for r in rollups],
        )
