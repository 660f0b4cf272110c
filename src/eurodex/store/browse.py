"""Reads for browsing the register: a page of search results, an institution and its entries.

Each read loads what a listing shows in a fixed number of statements, however many rows the
page has: entries with their institution and score, never one query per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from eurodex.model import Status
from eurodex.store.tables import ENTRY_NAME_ORDER, Entry, Institution, Proof, Score


@dataclass(frozen=True)
class Listed:
    """One entry as a listing shows it."""

    entry: Entry
    score: Score | None


@dataclass(frozen=True)
class HeldProof:
    """A proof that holds for one of an institution's entries."""

    entry_slug: str
    entry_name: str
    name: str
    sentence: str
    url: str | None
    checked_at: datetime


def listed_entries(session: Session, ids: Sequence[int]) -> list[Listed]:
    """The entries ``ids``, in that order, with institution and score."""
    if not ids:
        return []
    entries = {
        e.id: e for e in session.scalars(
            select(Entry).options(joinedload(Entry.institution)).where(Entry.id.in_(ids))
        )
    }
    scores = {s.entry_id: s for s in session.scalars(select(Score).where(Score.entry_id.in_(ids)))}
    return [Listed(entries[i], scores.get(i)) for i in ids if i in entries]


def register_counts(session: Session) -> tuple[int, int, int]:
    """Approved entries, institutions publishing them, and countries they cover."""
    approved = select(Entry).where(Entry.status == Status.APPROVED.value).subquery()
    entries, institutions, countries = session.execute(
        select(func.count(), func.count(approved.c.institution_id.distinct()),
               func.count(approved.c.country.distinct()))
    ).one()
    return entries, institutions, countries


def institution_entries(session: Session, institution_id: int) -> list[Listed]:
    """The institution's approved entries, by name."""
    ids = list(session.scalars(
        select(Entry.id)
        .where(Entry.institution_id == institution_id, Entry.status == Status.APPROVED.value)
        .order_by(ENTRY_NAME_ORDER, Entry.id)
    ))
    return listed_entries(session, ids)


def institution_proofs(session: Session, institution_id: int) -> list[HeldProof]:
    """Every proof that holds for one of the institution's approved entries."""
    rows = session.execute(
        select(Entry.slug, Entry.name, Proof.name, Proof.sentence, Proof.url, Proof.checked_at)
        .join(Proof, Proof.entry_id == Entry.id)
        .where(Entry.institution_id == institution_id, Entry.status == Status.APPROVED.value,
               Proof.held.is_(True))
        .order_by(ENTRY_NAME_ORDER, Proof.name)
    ).all()
    return [HeldProof(*row) for row in rows]


def institution(session: Session, slug: str) -> Institution | None:
    return session.scalar(select(Institution).where(Institution.slug == slug))
