"""Helpers for the continuous-verification tests: entries made through the repository,
checks recorded at chosen times, loopback hosts reached under ``.invalid`` names.

A ``.invalid`` name never reaches DNS (the checker's resolver refuses it at once), so a host
override that is missing fails fast instead of going to the internet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from eurodex.harvest.records import Candidate, FieldValue, InstitutionRecord
from eurodex.model import CheckResult, Kind, Outcome, Status
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry

LOOPBACK = ("127.0.0.0/8",)


def host(i: int) -> str:
    return f"api{i}.eurodex-test.invalid"


def overrides(port: int, count: int) -> dict[str, str]:
    """``apiN.eurodex-test.invalid`` -> the loopback server, for N in range(count)."""
    return {host(i): f"127.0.0.1:{port}" for i in range(count)}


def make_entries(
    store: Store, count: int, *, base_url=None, kind: Kind = Kind.API, spec_url=None,
    status: Status = Status.APPROVED,
) -> list[int]:
    """``count`` entries created through ``repository.upsert_entry``; returns their ids.

    ``base_url`` and ``spec_url`` are functions of the entry's index in this call (or None).
    Record ids and slugs number on from the entries already there: test-0, test-1, ...
    """
    ids = []
    with store.session() as session:
        source = repo.ensure_source(session, slug="test-source", name="Test source",
                                    format="test", url=None, trusted=True)
        # A trusted source and a known institution: admission (re-run by full verification)
        # keeps the entries APPROVED.
        institution, _ = repo.upsert_institution(session, source, InstitutionRecord(
            key="test-ministry", record_url=None, fields={
                "name": FieldValue("Test ministry"), "country": FieldValue("FR"),
                "type": FieldValue("GOVERNMENT")}))
        first = session.scalar(select(func.count()).select_from(Entry)) or 0
        for i in range(count):
            fields = {"name": FieldValue(f"Test API {first + i}")}
            if base_url is not None:
                fields["base_url"] = FieldValue(base_url(i))
            if spec_url is not None:
                fields["spec_url"] = FieldValue(spec_url(i))
            candidate = Candidate(record_id=f"test-{first + i}", record_url=None, kind=kind,
                                  fields=fields)
            entry, _ = repo.upsert_entry(session, source, candidate, institution)
            entry.status = status.value
            session.flush()
            ids.append(entry.id)
    return ids


def result(outcome: Outcome, at: datetime, latency_ms: int | None = 100,
           url: str = "https://api.example.invalid/") -> CheckResult:
    status = {Outcome.UP: 200, Outcome.UP_AUTH: 401, Outcome.INCONCLUSIVE: 429,
              Outcome.DOWN: 503}[outcome]
    reason = {Outcome.DOWN: "http_5xx", Outcome.INCONCLUSIVE: "http_429"}.get(outcome)
    return CheckResult(url=url, started_at=at, method="HEAD", outcome=outcome,
                       http_status=status, latency_ms=latency_ms, reason=reason)


def record(store: Store, entry_id: int, outcome: Outcome, at: datetime,
           latency_ms: int | None = 100) -> Entry:
    """Record one check through the repository, in its own transaction; returns the entry."""
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        repo.record_check(session, entry, result(outcome, at, latency_ms))
        return entry


def now_utc() -> datetime:
    return datetime.now(UTC)


def hours_ago(hours: float) -> datetime:
    return now_utc() - timedelta(hours=hours)


def loop_settings(store: Store, **values: object) -> Settings:
    return Settings(database_url=store.url, **values)  # type: ignore[arg-type]
