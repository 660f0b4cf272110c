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
    InstitutionRecord,
    RecordError,
)
from eurodex.model import Kind, ProvenanceMethod, State
from eurodex.proof.admission import admit
from eurodex.proof.domains import DomainRegistry
from eurodex.proof.prove import ProofSubject, prove_offline, total_points
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi_file
from eurodex.score.axes import ScoreFacts
from eurodex.score.composite import score_entry
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry, HarvestRun, Provenance, Source

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

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def harvest(
    store: Store,
    harvester: Harvester,
    *,
    registry: DomainRegistry | None = None,
    progress: Callable[[int], None] | None = None,
) -> HarvestReport:
    """Harvest one source into the store, then capture, prove and admit what it listed.

    A record that cannot be read is reported and skipped; nothing is ever deleted.
    """
    registry = registry or DomainRegistry.shipped()
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

    for item in harvester.candidates():
        if isinstance(item, RecordError):
            report.failed += 1
            report.failures.append(item)
        else:
            with store.session() as session:
                source = session.get(Source, source_id)
                inst = (
                    repo.institution_by_slug(session, repo.slugify(item.institution_key))
                    if item.institution_key else None
                )
                entry, outcome = repo.upsert_entry(session, source, item, inst)
                if capture_spec(session, entry, item, source):
                    outcome = "updated" if outcome == "unchanged" else outcome
                prove_and_admit(session, entry, registry)
                report.count(outcome)
                report.entry_ids.append(entry.id)
        if progress:
            progress(1)

    with store.session() as session:
        run = session.get(HarvestRun, run_id)
        run.finished_at = repo.now_utc()
        run.status = "partial" if report.failed else "ok"
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


def _other_listing_sources(session, entry: Entry) -> list[str]:
    """Names of other sources that gave this entry a value: each one is an independent listing."""
    rows = session.execute(
        select(Source.name).join(Provenance, Provenance.source_id == Source.id)
        .where(Provenance.subject == "entry", Provenance.subject_id == entry.id,
               Provenance.source_id != entry.source_id)
        .distinct()
    ).all()
    return [name for (name,) in rows]


def prove_and_admit(session, entry: Entry, registry: DomainRegistry) -> None:
    inst = entry.institution
    source = entry.source
    subject = ProofSubject(
        kind=Kind(entry.kind),
        base_url=entry.base_url,
        spec_url=entry.spec_url,
        homepage_url=entry.homepage_url,
        institution_name=(inst.acronym or inst.name) if inst else None,
        institution_domains=list(inst.official_domains) if inst else [],
        institution_github_orgs=list(inst.github_orgs) if inst else [],
        first_source_name=source.name,
        other_listing_sources=_other_listing_sources(session, entry),
    )
    proofs = prove_offline(subject, registry, repo.now_utc())
    repo.save_proofs(session, entry, proofs)
    decision = admit(
        officialness=total_points(proofs),
        has_institution=inst is not None,
        source_name=source.name,
        source_trusted=source.trusted,
    )
    if entry.status in ("APPROVED", "REJECTED") and entry.status_reason.startswith("curator"):
        return  # a curator's decision stands until a curator changes it
    entry.status, entry.status_reason = decision.status.value, decision.reason


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
    )


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
