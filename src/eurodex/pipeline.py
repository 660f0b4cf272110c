"""The register's flow, one step at a time: harvest, capture, prove and admit, score.

Each step reads and writes the store through the repository and commits per record, so an
interrupted run leaves every finished record whole and the next run picks up the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.model import Kind, ProvenanceMethod, State
from eurodex.proof import decide
from eurodex.proof.curation import Curation, curation_at
from eurodex.proof.domains import DomainRegistry
from eurodex.proof.institutions import apply_curation, link_institutions
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi_file
from eurodex.score.axes import ScoreFacts
from eurodex.score.composite import score_entry
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.distributions import distributions_for
from eurodex.store.harvested import apply_source_status, store_harvested_facts
from eurodex.store.listings import count_misses, resolve_replacement
from eurodex.store.tables import Entry, HarvestRun, Source

log = logging.getLogger("eurodex.pipeline")


class Harvester(Protocol):
    source_slug: str
    source_name: str
    source_format: str
    source_url: str | None
    trusted: bool

    def institutions(self) -> Iterable[InstitutionRecord | RecordError]: ...

    def candidates(self) -> Iterable[Candidate | RecordError]: ...


@dataclass
class HarvestReport:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    institutions: int = 0
    failures: list[RecordError] = field(default_factory=list)
    entry_ids: list[int] = field(default_factory=list)
    # Why the harvest stopped before the end of the source (a page that failed), if it did.
    aborted: str | None = None
    retired: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def harvest(
    store: Store,
    harvester: Harvester,
    *,
    registry: DomainRegistry | None = None,
    curation: Curation | None = None,
    progress: Callable[[int], None] | None = None,
) -> HarvestReport:
    """Harvest one source into the store, then capture, prove and admit what it listed.

    A record that cannot be read is reported and skipped; nothing is ever deleted. The
    operator's curation is read from ``EURODEX_CURATION_FILE`` unless given.
    """
    curation = curation if curation is not None else current_curation()
    registry = registry or decide.registry_for(curation)
    report = HarvestReport(source=harvester.source_name)
    with store.session() as session:
        source = repo.ensure_source(
            session, slug=harvester.source_slug, name=harvester.source_name,
            format=harvester.source_format, url=harvester.source_url, trusted=harvester.trusted,
        )
        run = HarvestRun(source_id=source.id, started_at=repo.now_utc(), status="running",
                         failures=[])
        session.add(run)
        session.flush()
        source_id, run_id = source.id, run.id

    for record in harvester.institutions():
        if isinstance(record, RecordError):
            report.failed += 1
            report.failures.append(record)
            continue
        with store.session() as session:
            source = session.get(Source, source_id)
            repo.upsert_institution(session, source, record)
            report.institutions += 1
    with store.session() as session:
        apply_curation(session, curation)
        link_institutions(session, registry)

    pending: list[tuple[int, str]] = []  # (entry id, the source's id of its replacement)
    upserted: set[str] = set()
    try:
        for item in harvester.candidates():
            if isinstance(item, RecordError):
                report.failed += 1
                report.failures.append(item)
            else:
                with store.session() as session:
                    source = session.get(Source, source_id)
                    if item.institution is not None and item.institution.key not in upserted:
                        # A publisher described in the record: stored once per harvest.
                        repo.upsert_institution(session, source, item.institution)
                        upserted.add(item.institution.key)
                    inst = (
                        repo.institution_by_slug(session, repo.slugify(item.institution_key))
                        if item.institution_key else None
                    )
                    entry, outcome = repo.upsert_entry(session, source, item, inst)
                    if capture_spec(session, entry, item, source):
                        outcome = "updated" if outcome == "unchanged" else outcome
                    if store_harvested_facts(session, entry, item, source, run_id,
                                             repo.now_utc()):
                        outcome = "updated" if outcome == "unchanged" else outcome
                    prove_and_admit(session, entry, registry, curation)
                    if replacement := apply_source_status(session, entry, item, source):
                        pending.append((entry.id, replacement))
                    report.count(outcome)
                    report.entry_ids.append(entry.id)
            if progress:
                progress(1)
    except HarvestError as exc:
        # A page that cannot be read ends the harvest; everything read so far stays.
        log.warning("harvest of %s stopped: %s", report.source, exc)
        report.aborted = str(exc)
        report.failures.append(RecordError(report.source, "harvest", str(exc)))

    _relink_and_reprove(store, report.entry_ids, registry, curation)
    with store.session() as session:
        source = session.get(Source, source_id)
        for entry_id, replacement in pending:
            resolve_replacement(session, session.get(Entry, entry_id), source, replacement)
        status = "ok"
        if report.aborted:
            status = "partial" if report.entry_ids else "failed"
        elif report.failed:
            status = "partial"
        if status == "ok":  # only a complete picture of the source counts a miss
            report.retired = count_misses(session, source, run_id)
    with store.session() as session:
        run = session.get(HarvestRun, run_id)
        run.finished_at = repo.now_utc()
        run.status = status
        run.new, run.updated, run.unchanged, run.failed = (
            report.new, report.updated, report.unchanged, report.failed)
        run.failures = [{"record": f.record, "reason": f.reason} for f in report.failures]
    log.info(
        "harvested %s: %d new, %d updated, %d unchanged, %d failed",
        report.source, report.new, report.updated, report.unchanged, report.failed,
    )
    return report


def capture_spec(session, entry: Entry, candidate: Candidate, source: Source) -> bool:
    """Capture the candidate's spec; a declared server fills a missing base URL.

    Returns True when the base URL changed.
    """
    spec = candidate.spec
    if spec is None:
        return False
    described = spec.published_at or spec.path.name
    try:
        captured = capture_openapi_file(spec.path)
    except SchemaCaptureError as exc:
        log.warning("%s: spec not captured: %s", entry.slug, exc)
        repo.save_schema(session, entry, captured=None, captured_from=spec.path.name,
                         error=str(exc))
        return False
    repo.save_schema(session, entry, captured=captured, captured_from=spec.path.name)
    declared_base = candidate.value("base_url")
    servers = [s for s in captured.servers if s.startswith(("http://", "https://"))]
    if declared_base or not servers:
        return False
    return repo.record_entry_field(
        session, entry, "base_url", FieldValue(servers[0], ProvenanceMethod.EXTRACTED), source,
        record_url=described,
    )


def current_curation() -> Curation:
    """The operator's curation file named by the environment (an empty one when unset)."""
    return curation_at(Settings.from_env().curation_file)


def _relink_and_reprove(
    store: Store, entry_ids: list[int], registry: DomainRegistry, curation: Curation
) -> None:
    """Institutions a harvest created along with its candidates are linked once it ends; the
    entries of any institution whose links changed are proven again."""
    with store.session() as session:
        changed = link_institutions(session, registry)
    if not changed:
        return
    for start in range(0, len(entry_ids), 200):
        with store.session() as session:
            for entry in session.scalars(select(Entry).where(
                    Entry.id.in_(entry_ids[start:start + 200]),
                    Entry.institution_id.in_(changed))):
                prove_and_admit(session, entry, registry, curation)


def prove_and_admit(
    session, entry: Entry, registry: DomainRegistry, curation: Curation | None = None
) -> None:
    """Offline proofs and admission of one entry (see ``eurodex.proof.decide``)."""
    decide.prove_and_admit(session, entry, registry,
                           curation if curation is not None else current_curation())


def score_facts(session, entry: Entry) -> ScoreFacts:
    schema = repo.schema_for(session, entry.id)
    inst = entry.institution
    return ScoreFacts(
        kind=Kind(entry.kind),
        public_sector=inst is not None,
        proofs=repo.proofs_for(session, entry.id),
        state=State(entry.state),
        consecutive_failures=entry.consecutive_failures,
        ever_checked=entry.last_check_at is not None,
        uptime_30d=repo.uptime(session, entry.id, timedelta(days=30)),
        history_hours=repo.history_hours(session, entry.id),
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
        **dataset_facts(session, entry),
    )


def dataset_facts(session, entry: Entry) -> dict[str, object]:
    """The dataset fields of ScoreFacts (methodology 5), from the entry and its distributions.

    Temporal coverage counts as declared when either end is; the documentation is the
    entry's docs URL (a dataset's ``foaf:page`` or CKAN ``documentation``).
    """
    if Kind(entry.kind) is not Kind.DATASET:
        return {}
    distributions = distributions_for(session, entry.id)
    formats = [d.format or d.media_type for d in distributions if d.format or d.media_type]
    temporal = " to ".join(t for t in (entry.temporal_start, entry.temporal_end) if t) or None
    return {
        "landing_page": entry.landing_page,
        "documentation": entry.docs_url,
        "distribution_formats": [_format_word(f) for f in formats],
        "distribution_count": len(distributions),
        "temporal_coverage": temporal,
        "spatial_coverage": entry.spatial,
    }


def _format_word(fmt: str) -> str:
    """``csv`` from ``CSV``, ``text/csv`` or ``.../file-type/CSV``: how axes compare formats."""
    word = fmt.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    return {"vnd.geo+json": "geojson", "geo+json": "geojson", "ld+json": "jsonld",
            "rdf+xml": "rdf", "x-ndjson": "ndjson"}.get(word, word.split("+")[0])


def score(store: Store, entry_ids: Iterable[int] | None = None) -> int:
    """Recompute the quality score of the given entries (all when None); returns the count."""
    with store.session() as session:
        ids = list(entry_ids) if entry_ids is not None else repo.all_entry_ids(session)
    done = 0
    for start in range(0, len(ids), 200):
        with store.session() as session:
            for entry in session.scalars(select(Entry).where(Entry.id.in_(ids[start:start + 200]))):
                repo.save_score(session, entry, score_entry(score_facts(session, entry)))
                done += 1
    return done
