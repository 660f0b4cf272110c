"""What the "Verification status" section of an entry page shows, built from stored facts.

The state shown is the effective one: an entry whose last success is more than 24 hours old
reads STALE even if the scheduler has not written that yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from eurodex.model import State
from eurodex.store import history
from eurodex.store import repository as repo
from eurodex.store.tables import CapturedSchemaRow, Check, Entry
from eurodex.web.chart import describe, uptime_chart

CHART_DAYS = 90

OUTCOME_WORDS = {
    "UP": "up", "UP_AUTH": "up, requires auth", "INCONCLUSIVE": "inconclusive",
    "DOWN": "down",
}
REASON_WORDS = {
    "dns": "the host name does not resolve",
    "refused": "the connection was refused",
    "timeout": "no answer within the time limit",
    "connect_timeout": "the connection could not be set up in time",
    "connection_error": "the connection failed",
    "os_error": "the connection failed",
    "tls_certificate": "the TLS certificate is not trusted",
    "tls_expired": "the TLS certificate has expired",
    "tls_hostname": "the TLS certificate is for another host name",
    "tls_other": "the TLS handshake failed",
    "http_404": "not found (HTTP 404)",
    "http_410": "gone (HTTP 410)",
    "http_4xx": "the request was refused",
    "http_3xx": "a redirect without a target",
    "http_5xx": "server error",
    "http_429": "rate limited: the host asked to wait",
    "backoff": "not sent: waiting for the host's Retry-After",
    "challenge": "a bot-protection page answered",
    "redirect_loop": "redirects go round in a loop",
    "too_many_redirects": "more than 10 redirects",
    "invalid_url": "the URL is not valid",
    "blocked_address": "the host points to a private address",
}


def state_words(entry: Entry, state: State) -> str:
    """One sentence that explains the state, in the methodology's terms."""
    if state is State.VERIFIED:
        return "the latest decisive check succeeded"
    if state is State.STALE:
        return "no successful check in the last 24 hours"
    if state is State.FAILING:
        return f"{entry.consecutive_failures} consecutive failed checks"
    if entry.last_check_at is None:
        return "never checked"
    return "not verified yet: no check has succeeded"


@dataclass
class VerificationView:
    state: str
    state_sentence: str
    last_check: Check | None
    outcome_words: str | None
    reason_words: str | None
    uptime: dict[str, float | None]
    history_hours: float
    days: list[history.DayStat]
    chart_svg: str
    chart_summary: str
    schema: CapturedSchemaRow | None

    @property
    def measured_days(self) -> list[history.DayStat]:
        """The days that had a check, newest first: the chart's figures as a table."""
        return [d for d in reversed(self.days) if d.checks]


def verification_view(session: Session, entry: Entry, now: datetime) -> VerificationView:
    state = repo.current_state(entry, now)
    check = repo.latest_check(session, entry.id)
    days = history.daily(session, entry.id, CHART_DAYS, now)
    return VerificationView(
        state=state.value,
        state_sentence=state_words(entry, state),
        last_check=check,
        outcome_words=OUTCOME_WORDS.get(check.outcome, check.outcome.lower()) if check else None,
        reason_words=REASON_WORDS.get(check.reason, check.reason) if check and check.reason
        else None,
        uptime=history.uptimes(session, entry.id, now),
        history_hours=history.history_hours(session, entry.id, now),
        days=days,
        chart_svg=uptime_chart(days),
        chart_summary=describe(days),
        schema=repo.schema_for(session, entry.id),
    )
