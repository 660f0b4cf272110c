"""The register's flow, one step at a time: harvest, capture, prove and admit, score.

Each step reads and writes the store through the repository. A harvest reads a batch of
records from its source (no transaction open while a portal is fetched or a file parsed), then
writes the batch in one short transaction: an interrupted run leaves every committed batch
whole, never half a record, and the next run picks up the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.model import ProvenanceMethod
from eurodex.proof import decide
from eurodex.proof.curation import Curation, curation_at
from eurodex.proof.domains import DomainRegistry
from eurodex.proof.institutions import apply_curation, link_institutions
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi_file
from eurodex.score.axes import ScoreFacts
from eurodex.score.composite import score_entry
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store import score_inputs
from eurodex.store.db import Store
from eurodex.store.fitting import fit_candidate
from eurodex.store.harvested import apply_source_status, store_harvested_facts
from eurodex.store.listings import count_misses, resolve_replacement
from eurodex.store.merge import BatchLookup
from eurodex.store.pending import collect_pending, write_pending
from eurodex.store.tables import Entry, HarvestRun, Institution, Source

log = logging.getLogger("eurodex.pipeline")

# Records written per transaction: large enough that a commit is rare, small enough that a
# transaction holds the SQLite write lock for a fraction of a second and a crash loses little.
BATCH_RECORDS = 200
# Entries scored per transaction (their stored facts are read together).
SCORE_BATCH = 500


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
        close_interrupted_runs(session, source)
        run = HarvestRun(source_id=source.id, started_at=repo.now_utc(), status="running",
                         failures=[])
        session.add(run)
        session.flush()
        source_id, run_id = source.id, run.id

    for batch in _batches(harvester.institutions()):
        with store.session() as session:
            source = session.get(Source, source_id)
            for record in batch:
                if isinstance(record, RecordError):
                    report.failed += 1
                    report.failures.append(record)
                else:
                    repo.upsert_institution(session, source, record)
                    report.institutions += 1
    with store.session() as session:
        apply_curation(session, curation)
        link_institutions(session, registry)

    writer = _RecordWriter(source_id, run_id, registry, curation, report)
    for batch in _batches(_until_harvest_error(harvester.candidates(), report)):
        with store.session() as session:
            writer.write(session, batch, progress)

    _relink_and_reprove(store, report.entry_ids, registry, curation)
    with store.session() as session:
        source = session.get(Source, source_id)
        for entry_id, replacement in writer.pending:
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


def close_interrupted_runs(session, source: Source) -> int:
    """Runs of ``source`` still marked running when a new one starts: a process that was
    killed or crashed never recorded their end, and they would show as running for ever.

    One source is harvested by one process at a time (on a cluster its jobs share a lock), so
    such a run has stopped. It becomes ``interrupted``; what it had committed stays, as any
    harvest's batches do. A run that was in fact still going records its own end later.
    """
    stopped = session.scalars(select(HarvestRun).where(
        HarvestRun.source_id == source.id, HarvestRun.status == "running")).all()
    for run in stopped:
        run.status = "interrupted"
        log.warning("harvest of %s started at %s never finished (the process stopped); "
                    "marked interrupted", source.name, run.started_at.isoformat())
    return len(stopped)


def _batches(items: Iterable) -> Iterator[list]:
    """``items`` in lists of at most BATCH_RECORDS (so memory stays bounded)."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH_RECORDS:
            yield batch
            batch = []
    if batch:
        yield batch


def _until_harvest_error(items: Iterable, report: HarvestReport) -> Iterator:
    """``items`` until a page that cannot be read ends the harvest (noted on the report);
    everything read before it is still written."""
    try:
        yield from items
    except HarvestError as exc:
        log.warning("harvest of %s stopped: %s", report.source, exc)
        report.aborted = str(exc)
        report.failures.append(RecordError(report.source, "harvest", str(exc)))


class _RecordWriter:
    """Writes a harvest's records, batch after batch, remembering what a batch may reuse."""

    def __init__(self, source_id: int, run_id: int, registry: DomainRegistry,
                 curation: Curation, report: HarvestReport) -> None:
        self.source_id, self.run_id = source_id, run_id
        self.registry, self.curation, self.report = registry, curation, report
        self.upserted: set[str] = set()  # publishers stored in this harvest (by key)
        self.institution_ids: dict[str, int | None] = {}  # slug -> id, as looked up
        self.pending: list[tuple[int, str]] = []  # (entry id, source's id of its replacement)
        self.slug_suffixes: dict[str, int] = {}  # see merge.BatchLookup
        self.batch_institutions: dict[str, Institution] = {}  # slug -> new, not inserted

    def write(self, session, batch: list[Candidate | RecordError],
              progress: Callable[[int], None] | None) -> None:
        collect_pending(session)
        written: list[tuple[Entry, str | None]] = []
        source = session.get(Source, self.source_id)
        batch = [fit_candidate(c, source.name) if isinstance(c, Candidate) else c
                 for c in batch]
        candidates = [c for c in batch if isinstance(c, Candidate)]
        lookup = BatchLookup(
            session, source, candidates, [repo.new_slug_base(c) for c in candidates],
            [repo.slugify(k) for c in candidates
             for k in (c.institution_key, c.institution and c.institution.key) if k],
            self.slug_suffixes)
        self.batch_institutions = {}
        for item in batch:
            if isinstance(item, RecordError):
                self.report.failed += 1
                self.report.failures.append(item)
            else:
                written.append(self.write_one(session, source, item, lookup))
            if progress:
                progress(1)
        write_pending(session)  # new entries and institutions get their ids here
        self.institution_ids.update((slug, inst.id)
                                    for slug, inst in self.batch_institutions.items())
        for entry, replacement in written:
            self.report.entry_ids.append(entry.id)
            if replacement:
                self.pending.append((entry.id, replacement))

    def institution(self, session, key: str | None, lookup: BatchLookup
                    ) -> Institution | None:
        """The institution keyed ``key``: created in this batch, known, or looked up."""
        if not key:
            return None
        slug = repo.slugify(key)
        if slug in self.batch_institutions:
            return self.batch_institutions[slug]
        if slug not in self.institution_ids:
            found = (repo.institution_by_slug(session, slug)
                     if slug in lookup.institution_slugs else None)
            self.institution_ids[slug] = found.id if found else None
        found_id = self.institution_ids[slug]
        return session.get(Institution, found_id) if found_id is not None else None

    def publisher(self, session, source: Source, record: InstitutionRecord,
                  lookup: BatchLookup) -> None:
        """A publisher described in a record, stored once per harvest."""
        slug = repo.slugify(record.key)
        known_new = (slug not in lookup.institution_slugs
                     and self.institution_ids.get(slug) is None
                     and slug not in self.batch_institutions)
        inst, _ = repo.upsert_institution(session, source, record, known_new=known_new)
        self.upserted.add(record.key)
        if inst.id is None:
            self.batch_institutions[slug] = inst  # inserted with the batch
        else:
            self.institution_ids[slug] = inst.id

    def write_one(self, session, source: Source, item: Candidate, lookup: BatchLookup
                  ) -> tuple[Entry, str | None]:
        """Store one record: its entry (a new one may stay pending, without an id, until
        its batch ends) and the source's id of its replacement when that is not known yet."""
        if item.institution is not None and item.institution.key not in self.upserted:
            self.publisher(session, source, item.institution, lookup)
        inst = self.institution(session, item.institution_key, lookup)
        entry, outcome = repo.upsert_entry(session, source, item, inst, lookup)
        if capture_spec(session, entry, item, source):
            outcome = "updated" if outcome == "unchanged" else outcome
        if store_harvested_facts(session, entry, item, source, self.run_id, repo.now_utc(),
                                 fresh=outcome == "new"):
            outcome = "updated" if outcome == "unchanged" else outcome
        decide.prove_and_admit(session, entry, self.registry, self.curation,
                               created_from=item if outcome == "new" else None)
        replacement = apply_source_status(session, entry, item, source)
        self.report.count(outcome)
        return entry, replacement


def capture_spec(session, entry: Entry, candidate: Candidate, source: Source) -> bool:
    """Capture the candidate's spec; a declared server fills a missing base URL.

    Returns True when the base URL changed.
    """
    spec = candidate.spec
    if spec is None:
        return False
    if entry.id is None:  # a new entry of a harvest batch: the schema row needs its id
        session.flush()
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
    """The facts one entry's score is computed from (see ``store.score_inputs``)."""
    return score_inputs.score_facts(entry, score_inputs.ScoreInputs.read(session, [entry.id]))


def score(store: Store, entry_ids: Iterable[int] | None = None) -> int:
    """Recompute the quality score of the given entries (all when None); returns the count."""
    with store.session() as session:
        ids = list(entry_ids) if entry_ids is not None else repo.all_entry_ids(session)
    done = 0
    for start in range(0, len(ids), SCORE_BATCH):
        batch = ids[start:start + SCORE_BATCH]
        with store.session() as session:
            inputs = score_inputs.ScoreInputs.read(session, batch)
            for entry in session.scalars(select(Entry).where(Entry.id.in_(batch))
                                         .options(selectinload(Entry.institution))):
                repo.save_score(session, entry,
                                score_entry(score_inputs.score_facts(entry, inputs)),
                                stored=inputs.scores.get(entry.id))
                done += 1
    return done
