"""The register's background work as jobs, behind one small interface.

A job is a kind (harvest a source, verify a batch of turns, capture a spec, score, apply
retention, plan the next turns) and JSON arguments, so the same job can be run by this
process or sent to another machine. Two implementations of :class:`Jobs` run them:

- :class:`eurodex.jobs.inprocess.InProcessJobs`, asyncio tasks in this process: one machine
  on SQLite, where nothing else could take the work;
- :class:`eurodex.jobs.queue.QueueJobs`, a procrastinate queue in the register's own
  PostgreSQL, taken by ``eurodex worker`` processes on any number of machines.

Both run the same functions (``eurodex.jobs.tasks``), so what a job does never depends on
where it runs. Callers submit jobs and never learn which implementation they talk to.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class JobKind(enum.StrEnum):
    HARVEST = "harvest"  # one source, then score what it changed
    VERIFY = "verify"  # a batch of leased turns of one loop (eurodex.jobs.planning)
    CAPTURE = "capture"  # re-fetch and re-capture one entry's spec
    SCORE = "score"  # recompute scores (of the given entries, or all)
    RETENTION = "retention"  # delete raw checks past 90 days
    PLAN = "plan"  # lease the turns due now and submit them as verify jobs


@dataclass(frozen=True)
class Job:
    """One unit of background work; ``args`` must be JSON (the queue stores them)."""

    kind: JobKind
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def harvest(cls, source: str, *, live: bool = False) -> Job:
        return cls(JobKind.HARVEST, {"source": source, "live": live})

    @classmethod
    def capture(cls, entry_id: int) -> Job:
        return cls(JobKind.CAPTURE, {"entry_id": entry_id})

    @classmethod
    def score(cls, entry_ids: Sequence[int] | None = None) -> Job:
        return cls(JobKind.SCORE, {"entry_ids": None if entry_ids is None else list(entry_ids)})

    @classmethod
    def retention(cls) -> Job:
        return cls(JobKind.RETENTION)

    @classmethod
    def plan(cls) -> Job:
        return cls(JobKind.PLAN)


@dataclass(frozen=True)
class QueueDepth:
    """Jobs waiting to start and jobs running, wherever they run."""

    waiting: int = 0
    running: int = 0


class Jobs(Protocol):
    """Where jobs are sent. ``submit`` returns once the jobs are accepted, not done."""

    async def submit(self, *jobs: Job) -> None: ...

    async def depth(self) -> QueueDepth: ...
