"""Curators' decisions on quarantined entries, each kept in the audit log (methodology 3).

A decision sets the entry's status and a reason beginning with "curator NAME", which is how
later re-proving knows the decision stands (``eurodex.proof.decide``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from eurodex.model import Status
from eurodex.proof.decide import CURATOR_PREFIX
from eurodex.store import repository as repo
from eurodex.store.tables import AuditLog, Entry

log = logging.getLogger("eurodex.review")

ACTIONS = {"approve": Status.APPROVED, "reject": Status.REJECTED}
PAST = {"approve": "approved", "reject": "rejected"}
MAX_REASON = 2000


class DecisionError(ValueError):
    """A decision that cannot be recorded: unknown entry, not waiting for review, no reason.

    ``status`` is the HTTP status that says so: 404, 409 or 400.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Decision:
    slug: str
    status: str
    reason: str


def review_queue(session: Session, limit: int = 200) -> Sequence[Entry]:
    """Entries waiting for a curator, oldest first."""
    return session.scalars(
        select(Entry).options(joinedload(Entry.institution), joinedload(Entry.source))
        .where(Entry.status == Status.QUARANTINED.value)
        .order_by(Entry.created_at, Entry.id).limit(limit)
    ).all()


def recent_decisions(session: Session, limit: int = 20) -> Sequence[AuditLog]:
    return session.scalars(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
                           .limit(limit)).all()


def decisions_for(session: Session, entry_id: int) -> Sequence[AuditLog]:
    return session.scalars(select(AuditLog).where(AuditLog.entry_id == entry_id)
                           .order_by(AuditLog.at, AuditLog.id)).all()


def decide(session: Session, slug: str, action: str, actor: str, reason: str | None) -> Decision:
    """Approve or reject the quarantined entry ``slug`` as ``actor``; writes the audit log."""
    if action not in ACTIONS:
        raise DecisionError(f"unknown action {action!r}: use approve or reject")
    reason = " ".join((reason or "").split())[:MAX_REASON]
    if action == "reject" and not reason:
        raise DecisionError("a rejection needs a reason")
    entry = repo.entry_by_slug(session, slug)
    if entry is None:
        raise DecisionError(f"no entry {slug!r} in this register", 404)
    if entry.status != Status.QUARANTINED.value:
        raise DecisionError(f"{slug} is {entry.status}, not waiting for review", 409)
    status = ACTIONS[action]
    why = reason or "approved after review"
    before = entry.status
    entry.status = status.value
    entry.status_reason = f"{CURATOR_PREFIX}{actor} {PAST[action]}: {why}"
    entry.updated_at = repo.now_utc()
    session.add(AuditLog(at=repo.now_utc(), actor=actor, action=action, entry_id=entry.id,
                         entry_slug=entry.slug, from_status=before, to_status=status.value,
                         reason=why))
    log.info("%s %s %s", actor, PAST[action], slug)
    return Decision(entry.slug, entry.status, entry.status_reason)
