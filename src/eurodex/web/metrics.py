"""``/metrics`` in Prometheus's text format, read from the database at every scrape.

Checks are made by worker processes (or the web process's loops), harvests by whichever
process ran them, and a cluster serves the web from several replicas: counters kept in one
process's memory would show only what that process did. So every scrape builds a fresh
registry whose collector asks the database, and any replica answers for the whole register.

- ``eurodex_checks_per_second{outcome}``: checks stored over the last five minutes, by
  outcome, per second. Raw checks are deleted after 90 days, so a count of them is not a
  counter Prometheus could take a rate of; the window keeps the query on the started-at
  index whatever the size of the history.
- ``eurodex_queue_jobs{status}`` and ``eurodex_queue_depth``: procrastinate's jobs by
  status on PostgreSQL; on SQLite, the jobs waiting and running in this process.
- ``eurodex_harvest_duration_seconds{source}``: a histogram of finished harvest runs, and
  ``eurodex_harvest_last_duration_seconds{source}``, the latest run's.
- ``eurodex_entries{state,status}``: entries by verification state and admission status.
- ``eurodex_turns_due{loop}`` and ``eurodex_turns_leased{loop}``: the rolling loops' backlog
  and what is out with queued jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eurodex.jobs.inprocess import local_depth
from eurodex.jobs.planning import leased_count
from eurodex.jobs.queue import jobs_by_status
from eurodex.model import Outcome
from eurodex.store import schedules
from eurodex.store.db import Store
from eurodex.store.tables import Check, Entry, HarvestRun, Source
from eurodex.verify.cadence import Loop

router = APIRouter()

CHECK_WINDOW = timedelta(minutes=5)
HARVEST_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
# procrastinate's job statuses, so a status with no job reads 0 rather than vanishing.
QUEUE_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")


class RegisterCollector:
    """Every eurodex metric, from one database session per scrape."""

    def __init__(self, store: Store, now: datetime | None = None) -> None:
        self.store = store
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or datetime.now(UTC)
        with self.store.session() as session:
            yield _checks_per_second(session, now)
            yield from _queue(session)
            yield from _harvests(session)
            yield _entries(session)
            yield from _turns(session, now)


def _checks_per_second(session: Session, now: datetime) -> Metric:
    counts = dict(session.execute(
        select(Check.outcome, func.count()).where(Check.started_at >= now - CHECK_WINDOW)
        .group_by(Check.outcome)).all())
    metric = GaugeMetricFamily(
        "eurodex_checks_per_second", "Checks stored per second over the last 5 minutes, by "
        "outcome.", labels=["outcome"])
    for outcome in Outcome:
        metric.add_metric([outcome.value], counts.get(outcome.value, 0)
                          / CHECK_WINDOW.total_seconds())
    return metric


def _queue(session: Session) -> Iterator[Metric]:
    if session.get_bind().dialect.name == "postgresql":
        counts = jobs_by_status(session)
    else:
        depth = local_depth()
        counts = {"todo": depth.waiting, "doing": depth.running}
    jobs = GaugeMetricFamily("eurodex_queue_jobs", "Background jobs by status.",
                             labels=["status"])
    for status in QUEUE_STATUSES:
        jobs.add_metric([status], counts.get(status, 0))
    yield jobs
    yield GaugeMetricFamily("eurodex_queue_depth", "Background jobs waiting to start.",
                            value=counts.get("todo", 0))


def _harvests(session: Session) -> Iterator[Metric]:
    runs = session.execute(
        select(Source.slug, HarvestRun.started_at, HarvestRun.finished_at)
        .join(Source, Source.id == HarvestRun.source_id)
        .where(HarvestRun.finished_at.is_not(None))
        .order_by(Source.slug, HarvestRun.started_at)).all()
    durations: dict[str, list[float]] = {}
    for slug, started, finished in runs:
        durations.setdefault(slug, []).append(max(0.0, (finished - started).total_seconds()))
    histogram = HistogramMetricFamily(
        "eurodex_harvest_duration_seconds", "Durations of finished harvest runs.",
        labels=["source"])
    last = GaugeMetricFamily("eurodex_harvest_last_duration_seconds",
                             "Duration of the latest finished harvest run.", labels=["source"])
    for slug, seconds in durations.items():
        buckets = [(str(float(le)), sum(1 for s in seconds if s <= le))
                   for le in HARVEST_BUCKETS_S]
        buckets.append(("+Inf", len(seconds)))
        histogram.add_metric([slug], buckets, sum_value=sum(seconds))
        last.add_metric([slug], seconds[-1])
    yield histogram
    yield last


def _entries(session: Session) -> Metric:
    metric = GaugeMetricFamily("eurodex_entries", "Entries by verification state and "
                               "admission status.", labels=["state", "status"])
    for state, status, count in session.execute(
            select(Entry.state, Entry.status, func.count())
            .group_by(Entry.state, Entry.status).order_by(Entry.state, Entry.status)).all():
        metric.add_metric([state, status], count)
    return metric


def _turns(session: Session, now: datetime) -> Iterator[Metric]:
    due = GaugeMetricFamily("eurodex_turns_due", "Verification turns due now.",
                            labels=["loop"])
    leased = GaugeMetricFamily("eurodex_turns_leased", "Verification turns out with a "
                               "queued job.", labels=["loop"])
    for loop in Loop:
        due.add_metric([loop.value], schedules.count_due(session, loop, now))
        leased.add_metric([loop.value], leased_count(session, loop, now))
    yield due
    yield leased


def render(store: Store, now: datetime | None = None) -> bytes:
    """The metrics page's body: a registry made for this scrape alone."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RegisterCollector(store, now))
    return generate_latest(registry)


@router.get("/metrics", tags=["operations"], include_in_schema=False)
def metrics(request: Request) -> Response:
    """The register's metrics for Prometheus (read from the database, so any replica)."""
    return Response(render(request.app.state.store), media_type=CONTENT_TYPE_LATEST)
