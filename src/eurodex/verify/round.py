"""A verification round: check a set of entries once, store each check, move their states.

Each check is committed on its own, so a round that stops half-way keeps what it checked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from eurodex.model import CheckResult, Kind, Outcome
from eurodex.proof.prove import ProofSubject, primary_url
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.check import Checker
from eurodex.verify.settings import CheckSettings

log = logging.getLogger("eurodex.verify")


def check_settings(settings: Settings) -> CheckSettings:
    return CheckSettings(
        host_overrides=dict(settings.host_overrides),
        extra_ca_file=settings.extra_ca_file,
        allowed_networks=list(settings.allowed_networks),
    )


def probe_url(entry: Entry) -> str | None:
    """What the uptime probe checks: the health URL, else the base URL (methodology 4).

    An entry whose catalogue declares neither is probed at the URL its domain proof judged
    (its spec, then its site), so that it can still be found alive or dead.
    """
    if entry.health_url:
        return entry.health_url
    if entry.base_url:
        return entry.base_url
    subject = ProofSubject(kind=Kind(entry.kind), base_url=None, spec_url=entry.spec_url,
                           homepage_url=entry.homepage_url)
    return primary_url(subject)


@dataclass
class RoundReport:
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


async def verify_entries(
    store: Store,
    entry_ids: Sequence[int],
    settings: Settings,
    *,
    concurrency: int = 32,
    progress: Callable[[CheckResult], None] | None = None,
    check_settings_override: CheckSettings | None = None,
) -> RoundReport:
    """Check each entry's probe URL once; store the check and the new state."""
    report = RoundReport()
    targets: list[tuple[int, str]] = []
    with store.session() as session:
        for entry in session.scalars(select(Entry).where(Entry.id.in_(list(entry_ids)))):
            url = probe_url(entry)
            if url is None:
                report.skipped.append(entry.slug)
            else:
                targets.append((entry.id, url))
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for target in targets:
        queue.put_nowait(target)

    async with Checker(check_settings_override or check_settings(settings)) as checker:

        async def worker() -> None:
            while True:
                try:
                    entry_id, url = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = await checker.check(url)
                await asyncio.to_thread(_store_check, store, entry_id, result)
                report.checked += 1
                report.outcomes[result.outcome.value] = (
                    report.outcomes.get(result.outcome.value, 0) + 1)
                if progress:
                    progress(result)

        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(targets))))))
    log.info("verified %d entries: %s", report.checked, report.outcomes)
    return report


def _store_check(store: Store, entry_id: int, result: CheckResult) -> None:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        repo.record_check(session, entry, result)
        if result.outcome is Outcome.DOWN:
            log.info("%s is down (%s): %s", entry.slug, result.reason, result.url)
