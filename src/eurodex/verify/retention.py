"""The retention job: raw checks are kept 90 days, hourly roll-ups forever (methodology 4).

Every roll-up was written in the transaction of the check it counts, so deleting old raw
checks loses no uptime figure. Runs daily from the scheduler, and as
``eurodex verify --retention``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from eurodex.store import history
from eurodex.store.db import Store

log = logging.getLogger("eurodex.verify")


def delete_old_checks(store: Store, now: datetime | None = None, *, batch: int = 5000) -> int:
    """Delete raw checks started more than 90 days before ``now``; returns how many."""
    cutoff = (now or datetime.now(UTC)) - history.RAW_CHECKS_KEPT
    deleted = 0
    while True:
        with store.session() as session:  # one short transaction per batch
            gone = history.delete_checks_before(session, cutoff, batch=batch)
        deleted += gone
        if gone < batch:
            break
    if deleted:
        log.info("retention: deleted %d raw checks older than %s", deleted, cutoff.date())
    return deleted
