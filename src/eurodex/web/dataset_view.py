"""What the entry page shows of a dataset (its panel) and of sources that disagree.

Read-only: built from stored facts, like every view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.model import Kind
from eurodex.store import merge
from eurodex.store.distributions import distributions_for
from eurodex.store.tables import Distribution, Entry, Listing, Provenance, Source

OUTCOME_WORDS = {"UP": "answers", "UP_AUTH": "answers, requires auth",
                 "INCONCLUSIVE": "inconclusive", "DOWN": "does not answer"}
LICENCE_CATEGORIES = {"open": "open", "attribution": "open, attribution required",
                      "share-alike": "open, share-alike", "not-open": "not open"}


def human_size(size: int | None) -> str | None:
    if size is None:
        return None
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return None


@dataclass
class DistributionView:
    row: Distribution
    size: str | None
    status: str | None


@dataclass
class Disagreement:
    field: str
    shown_source: str
    values: list[tuple[str, object]]  # (source name, value), shown first


@dataclass
class DatasetPanel:
    is_dataset: bool
    licence_label: str | None = None
    coverage: str | None = None
    distributions: list[DistributionView] = field(default_factory=list)


@dataclass
class SourcesView:
    listed_by: list[str]
    disagreements: list[Disagreement]
    rule: str = merge.SHOWN_VALUE_RULE
    replaced_by_slug: str | None = None


def dataset_panel(session: Session, entry: Entry) -> DatasetPanel:
    if Kind(entry.kind) is not Kind.DATASET:
        return DatasetPanel(is_dataset=False)
    licence = None
    if entry.licence_id:
        licence = f"{entry.licence_id} ({LICENCE_CATEGORIES.get(entry.licence_category or '')})"
    elif entry.licence:
        licence = f"{entry.licence} (not a known licence)"
    coverage = " to ".join(t for t in (entry.temporal_start, entry.temporal_end) if t) or None
    rows = [DistributionView(d, human_size(d.byte_size),
                             OUTCOME_WORDS.get(d.check_outcome or ""))
            for d in distributions_for(session, entry.id)]
    return DatasetPanel(True, licence, coverage, rows)


def sources_view(session: Session, entry: Entry) -> SourcesView:
    """Which sources list the entry, and the fields they disagree on (shown value first)."""
    names = dict(session.execute(select(Source.id, Source.name)).all())
    listed = sorted({names[s] for s in session.scalars(
        select(Listing.source_id).where(Listing.entry_id == entry.id))} | {entry.source.name})
    rows = session.scalars(select(Provenance).where(
        Provenance.subject == "entry", Provenance.subject_id == entry.id)).all()
    by_field: dict[str, list[Provenance]] = {}
    for row in rows:
        by_field.setdefault(row.field, []).append(row)
    disagreements = []
    for name, values in sorted(by_field.items()):
        if len({repr(v.value) for v in values}) < 2:
            continue
        shown = merge.shown_row(session, entry, name)
        ordered = sorted(values, key=lambda v: v.id != (shown.id if shown else None))
        disagreements.append(Disagreement(name, names[shown.source_id] if shown else "",
                                          [(names[v.source_id], v.value) for v in ordered]))
    replacement = session.get(Entry, entry.replaced_by_id) if entry.replaced_by_id else None
    return SourcesView(listed, disagreements,
                       replaced_by_slug=replacement.slug if replacement else None)
