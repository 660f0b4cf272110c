"""Full verification of one entry, every 6 hours (methodology 4).

The uptime probe, plus the spec URL re-fetched and re-captured, plus every step registered
in :data:`FULL_VERIFICATION_STEPS` (the pages the officialness proofs read, the dataset
distributions): those belong to other stages, which append their step here rather than this
module knowing about them.

Network first, store last: the probe check and the spec capture are held in memory while the
registered steps run, then stored in one transaction together with whatever the caller adds
(the schedule advance). A process stopped half-way has therefore stored nothing of this
turn and does it again; it never stores half a turn, nor the same turn twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from eurodex.model import CheckResult
from eurodex.proof.fetched import reprove_pages
from eurodex.store.db import Store
from eurodex.store.tables import Entry
from eurodex.verify.check import Checker
from eurodex.verify.commit import AlsoInTransaction, store_outcome
from eurodex.verify.distributions import check_distributions
from eurodex.verify.round import probe_url
from eurodex.verify.spec_refresh import SpecRefresh, is_remote, refetch_spec

log = logging.getLogger("eurodex.verify")

# ``await step(store, entry_id, checker)``: fetch through ``checker`` (guarded and polite),
# write through the repository in the step's own transactions. A step that raises is logged
# and does not stop the others or lose the probe check.
FullVerificationStep = Callable[[Store, int, Checker], Awaitable[None]]
FULL_VERIFICATION_STEPS: list[FullVerificationStep] = []
# The officialness proofs that read pages (methodology 2): reciprocal link, policy page.
FULL_VERIFICATION_STEPS.append(reprove_pages)
# Every distribution URL of a dataset, its outcome stored per distribution.
FULL_VERIFICATION_STEPS.append(check_distributions)


@dataclass
class FullReport:
    entry_id: int
    check: CheckResult | None = None
    # "captured", "changed", "unchanged", "failed", or None without a remote spec.
    spec: str | None = None
    step_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    slug: str
    probe_url: str | None
    spec_url: str | None


def _target(store: Store, entry_id: int) -> _Target | None:
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        if entry is None:
            return None
        spec = entry.spec_url if is_remote(entry.spec_url) else None
        return _Target(entry.slug, probe_url(entry), spec)


async def full_verify(
    store: Store, entry_id: int, checker: Checker, *, also: AlsoInTransaction | None = None
) -> FullReport:
    """Verify one entry fully; ``also`` runs in the storing transaction (see verify.commit)."""
    report = FullReport(entry_id)
    target = await asyncio.to_thread(_target, store, entry_id)
    if target is None:
        return report
    if target.probe_url:
        report.check = await checker.check(target.probe_url)
    spec: SpecRefresh | None = None
    if target.spec_url:
        spec = await refetch_spec(checker, target.spec_url)
    for step in list(FULL_VERIFICATION_STEPS):
        try:
            await step(store, entry_id, checker)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one broken step must not cost the entry its check
            name = getattr(step, "__name__", repr(step))
            log.warning("%s: full verification step %s failed", target.slug, name,
                        exc_info=True)
            report.step_errors.append(f"{name}: {exc}")
    report.spec = await asyncio.to_thread(
        store_outcome, store, entry_id, report.check, spec=spec, also=also)
    return report
