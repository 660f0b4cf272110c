"""What an entry's quality score is computed from, read for many entries at once.

Scoring a register after a harvest reads, for every entry, its schema, proofs, uptime,
history and distributions. Asked entry by entry that is half a dozen queries each, which
made scoring slower than harvesting; here each is one query per batch of entries. The facts
and the rules that turn them into a score are unchanged (``score.axes``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.model import Kind, ProofName, ProofResult, State
from eurodex.score.axes import ScoreFacts
from eurodex.store import history
from eurodex.store.tables import CapturedSchemaRow, Distribution, Entry, Proof, Score

UPTIME_WINDOW = timedelta(days=30)


@dataclass
class ScoreInputs:
    """The stored facts of a batch of entries that their scores need, by entry id."""

    schemas: dict[int, CapturedSchemaRow]
    proofs: dict[int, list[ProofResult]]
    uptime_30d: dict[int, float | None]
    history_hours: dict[int, float]
    distributions: dict[int, list[Distribution]]
    scores: dict[int, Score]

    @classmethod
    def read(cls, session: Session, entry_ids: Sequence[int],
             now: datetime | None = None) -> ScoreInputs:
        ids = list(entry_ids)
        now = now or datetime.now(UTC)
        order = {name.value: i for i, name in enumerate(ProofName)}
        proofs: dict[int, list[ProofResult]] = defaultdict(list)
        for row in sorted(session.scalars(select(Proof).where(Proof.entry_id.in_(ids))),
                          key=lambda p: (p.entry_id, order.get(p.name, 99))):
            proofs[row.entry_id].append(ProofResult(ProofName(row.name), row.held, row.checked,
                                                    row.url, row.sentence, row.checked_at))
        distributions: dict[int, list[Distribution]] = defaultdict(list)
        for row in session.scalars(
                select(Distribution).where(Distribution.entry_id.in_(ids))
                .order_by(Distribution.entry_id, Distribution.source_id, Distribution.position)):
            distributions[row.entry_id].append(row)
        return cls(
            schemas={s.entry_id: s for s in session.scalars(
                select(CapturedSchemaRow).where(CapturedSchemaRow.entry_id.in_(ids)))},
            proofs=proofs,
            uptime_30d=history.uptime_of_many(session, ids, UPTIME_WINDOW, now),
            history_hours=history.history_hours_of_many(session, ids, now),
            distributions=distributions,
            scores={s.entry_id: s for s in session.scalars(
                select(Score).where(Score.entry_id.in_(ids)))},
        )


def score_facts(entry: Entry, inputs: ScoreInputs) -> ScoreFacts:
    """The facts the five axes judge, for one entry of ``inputs``."""
    schema = inputs.schemas.get(entry.id)
    inst = entry.institution
    proofs = list(inputs.proofs.get(entry.id, []))
    return ScoreFacts(
        kind=Kind(entry.kind),
        # Public sector: a known institution, or a proof that holds without one (a host on a
        # public-sector domain list). Admission judged that same sum, so the axis shows it
        # instead of the neutral 50 kept for entries nothing links to the public sector.
        public_sector=inst is not None or any(p.held for p in proofs),
        proofs=proofs,
        state=State(entry.state),
        consecutive_failures=entry.consecutive_failures,
        ever_checked=entry.last_check_at is not None,
        uptime_30d=inputs.uptime_30d.get(entry.id),
        history_hours=inputs.history_hours.get(entry.id, 0.0),
        name=entry.name,
        description=entry.description,
        institution=inst.name if inst else None,
        country=entry.country,
        topics=list(entry.topics or []),
        base_url=entry.base_url,
        docs_url=entry.docs_url,
        spec_url=entry.spec_url,
        homepage_url=entry.homepage_url,
        contact=entry.contact,
        rate_limit=entry.rate_limit,
        auth_type=entry.auth_type,
        licence=entry.licence,
        spec_format=schema.spec_format if schema and not schema.error else None,
        last_modified=entry.last_modified,
        schema_captured=bool(schema and schema.field_count),
        **dataset_facts(entry, inputs.distributions.get(entry.id, [])),
    )


def dataset_facts(entry: Entry, distributions: list[Distribution]) -> dict[str, object]:
    """The dataset fields of ScoreFacts (methodology 5), from the entry and its distributions.

    Temporal coverage counts as declared when either end is; the documentation is the
    entry's docs URL (a dataset's ``foaf:page`` or CKAN ``documentation``).
    """
    if Kind(entry.kind) is not Kind.DATASET:
        return {}
    formats = [d.format or d.media_type for d in distributions if d.format or d.media_type]
    temporal = " to ".join(t for t in (entry.temporal_start, entry.temporal_end) if t) or None
    return {
        "landing_page": entry.landing_page,
        "documentation": entry.docs_url,
        "distribution_formats": [format_word(f) for f in formats],
        "distribution_count": len(distributions),
        "temporal_coverage": temporal,
        "spatial_coverage": entry.spatial,
    }


def format_word(fmt: str) -> str:
    """``csv`` from ``CSV``, ``text/csv`` or ``.../file-type/CSV``: how axes compare formats."""
    word = fmt.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    return {"vnd.geo+json": "geojson", "geo+json": "geojson", "ld+json": "jsonld",
            "rdf+xml": "rdf", "x-ndjson": "ndjson"}.get(word, word.split("+")[0])
