"""The one interface through which every stage reads and writes the register.

Functions take an open SQLAlchemy session; the caller decides the transaction, so a harvest
commits record by record and a crash leaves every committed record whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from types import EllipsisType

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from unidecode import unidecode

from eurodex.harvest.records import Candidate, FieldValue, InstitutionRecord
from eurodex.model import (
    CapturedSchema,
    CheckResult,
    Outcome,
    ProofName,
    ProofResult,
    QualityScore,
    State,
    Status,
)
from eurodex.store import history, merge
from eurodex.store.events import EventKind, record_event
from eurodex.store.pending import add_row, write_pending
from eurodex.store.tables import (
    ENTRY_NAME_ORDER,
    CapturedSchemaRow,
    Check,
    Entry,
    Event,
    Institution,
    Proof,
    Provenance,
    Score,
    Source,
)
from eurodex.verify.state import StateSnapshot, apply_check, effective_state

ENTRY_FIELDS = (
    "name", "summary", "description", "country", "topics", "tags", "base_url", "health_url",
    "docs_url", "spec_url", "homepage_url", "contact", "rate_limit", "auth_type", "licence",
    "last_modified", "landing_page", "temporal_start", "temporal_end", "spatial", "frequency",
)
INSTITUTION_FIELDS = (
    "name", "acronym", "country", "type", "type_label", "homepage_url", "contact",
    "official_domains", "github_orgs",
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphenated: ``Données Île`` becomes ``donnees-ile``."""
    ascii_text = unidecode(text).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "entry"


def _unique_slug(session: Session, model: type, base: str,
                 lookup: merge.BatchLookup | None = None) -> str:
    """``base``, or ``base-N`` with the first N not taken."""
    if lookup is not None:
        return _batch_slug(session, model, base, lookup)
    slug, n = base, 1
    if session.scalar(select(model.id).where(model.slug == slug)) is None:
        return slug
    n = 1 + _suffixes_taken(session, model, base)
    slug = f"{base}-{n}"
    while session.scalar(select(model.id).where(model.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _suffixes_taken(session: Session, model: type, base: str) -> int:
    """How many ``base-...`` slugs exist. Many records share a title in large catalogues:
    starting after them saves trying -2, -3, ... one query each. Slugs are [a-z0-9-]
    only, so they are the index range from "base-" up to "base." ("." follows "-")."""
    return session.scalar(select(func.count()).select_from(model)
                          .where(model.slug > f"{base}-", model.slug < f"{base}.")) or 0


def _batch_slug(session: Session, model: type, base: str, lookup: merge.BatchLookup) -> str:
    """:func:`_unique_slug` in a harvest batch, whose new entries may not be inserted yet:
    their slugs are in ``lookup``, and the database is asked without flushing them (one
    insert per record would cost more than the rest of the record)."""
    if lookup.slug_free(base):
        return base
    with session.no_autoflush:
        n = lookup.slug_suffixes.get(base)
        if n is None:
            n = 1 + _suffixes_taken(session, model, base)
        slug = f"{base}-{n}"
        while slug in lookup.taken_slugs or session.scalar(
                select(model.id).where(model.slug == slug)) is not None:
            n += 1
            slug = f"{base}-{n}"
    lookup.slug_suffixes[base] = n + 1
    return slug


# -- sources ------------------------------------------------------------------------------


def ensure_source(
    session: Session, *, slug: str, name: str, format: str, url: str | None, trusted: bool
) -> Source:
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        source = Source(slug=slug, name=name, format=format, url=url, trusted=trusted,
                        created_at=now_utc())
        session.add(source)
        session.flush()
    else:
        source.name, source.format, source.url, source.trusted = name, format, url, trusted
    return source


# -- provenance ---------------------------------------------------------------------------


def _record_provenance(
    session: Session,
    *,
    subject: str,
    subject_id: int,
    field: str,
    value: FieldValue,
    source: Source,
    record_url: str | None,
    now: datetime,
) -> None:
    row = session.scalar(
        select(Provenance).where(
            Provenance.subject == subject,
            Provenance.subject_id == subject_id,
            Provenance.field == field,
            Provenance.source_id == source.id,
        )
    )
    if row is None:
        session.add(Provenance(subject=subject, subject_id=subject_id, field=field,
                               value=value.value, source_id=source.id, record_url=record_url,
                               method=value.method.value, recorded_at=now))
    elif row.value != value.value or row.method != value.method.value:
        row.value, row.method, row.record_url, row.recorded_at = (
            value.value, value.method.value, record_url, now)


def provenance_for(session: Session, subject: str, subject_id: int) -> Sequence[Provenance]:
    return session.scalars(
        select(Provenance)
        .where(Provenance.subject == subject, Provenance.subject_id == subject_id)
        .order_by(Provenance.field, Provenance.id)
    ).all()


def record_entry_field(
    session: Session, entry: Entry, field: str, value: FieldValue, source: Source,
    record_url: str | None = None,
) -> bool:
    """Set one field with its provenance; True when the stored value changed."""
    changed = getattr(entry, field) != value.value
    if changed:
        setattr(entry, field, value.value)
    _record_provenance(session, subject="entry", subject_id=entry.id, field=field, value=value,
                       source=source, record_url=record_url or entry.record_url, now=now_utc())
    return changed


def record_institution_field(
    session: Session, inst: Institution, field: str, value: FieldValue, source: Source,
    *, now: datetime | None = None,
) -> None:
    """Record what ``source`` says of one institution field (the caller sets the value)."""
    _record_provenance(session, subject="institution", subject_id=inst.id, field=field,
                       value=value, source=source, record_url=None, now=now or now_utc())


# -- institutions -------------------------------------------------------------------------


def upsert_institution(
    session: Session, source: Source, record: InstitutionRecord, *, known_new: bool = False
) -> tuple[Institution, str]:
    """Create or update the institution keyed ``record.key``; returns it and new/updated/...

    ``known_new``: the caller knows no institution has this slug (a harvest batch asked);
    the new one is then inserted with the batch, at the session's next flush.
    """
    now = now_utc()
    slug = slugify(record.key)
    inst = None if known_new else session.scalar(
        select(Institution).where(Institution.slug == slug))
    values = {k: v for k, v in record.fields.items() if k in INSTITUTION_FIELDS}
    outcome = "unchanged"
    if inst is None:
        given = {"official_domains": [], "github_orgs": []}
        given.update({k: v.value for k, v in values.items()})
        inst = Institution(slug=slug, created_at=now, updated_at=now, **given)
        session.add(inst)
        if not known_new:
            session.flush()
        # A new institution has no provenance yet: its rows are added without looking.
        for name, value in values.items():
            add_row(session, Provenance, {
                "subject": "institution", "subject_id": inst, "field": name,
                "value": value.value, "source_id": source.id,
                "record_url": record.record_url, "method": value.method.value,
                "recorded_at": now})
        return inst, "new"
    write_pending(session)  # its provenance may be among the rows a batch collects
    for name, value in values.items():
        if getattr(inst, name) != value.value:
            setattr(inst, name, value.value)
            outcome = "updated"
    if outcome == "updated":
        inst.updated_at = now
    for name, value in values.items():
        _record_provenance(session, subject="institution", subject_id=inst.id, field=name,
                           value=value, source=source, record_url=record.record_url, now=now)
    return inst, outcome


def institutions_with_counts(session: Session) -> list[tuple[Institution, int]]:
    """The institutions with at least one approved entry, with that number, by name.

    Only approved entries appear in lists (methodology 3), so an institution known only
    through quarantined or rejected records is not listed either.
    """
    approved = (
        select(Entry.institution_id, func.count().label("n"))
        .where(Entry.status == Status.APPROVED.value)
        .group_by(Entry.institution_id).subquery()
    )
    rows = session.execute(
        select(Institution, approved.c.n)
        .join(approved, approved.c.institution_id == Institution.id)
        .order_by(Institution.name)
    ).all()
    return [(inst, n) for inst, n in rows]


def count_institutions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Institution)) or 0


def institution_by_slug(session: Session, slug: str) -> Institution | None:
    return session.scalar(select(Institution).where(Institution.slug == slug))


# -- entries ------------------------------------------------------------------------------


def upsert_entry(
    session: Session, source: Source, candidate: Candidate, institution: Institution | None,
    lookup: merge.BatchLookup | None = None,
) -> tuple[Entry, str]:
    """Create or update the entry this source knows as ``candidate.record_id``.

    Slugs are fixed when an entry is created and never change, so links stay valid.
    ``lookup``: what a harvest batch already knows is not in the database.
    """
    now = now_utc()
    # Listed by this source already, or the same resource listed by another (store.merge).
    certainly_new = lookup is not None and lookup.certainly_new(candidate)
    entry = None if certainly_new else merge.find_entry(session, source, candidate)
    outcome = "unchanged"
    if entry is None:
        entry = Entry(
            slug=_unique_slug(session, Entry, new_slug_base(candidate), lookup),
            kind=candidate.kind.value,
            name=str(candidate.value("name")),
            source_id=source.id,
            source=source,  # loaded: a pending entry never lazy-loads it
            record_id=candidate.record_id,
            record_url=candidate.record_url,
            status=Status.QUARANTINED.value,
            status_reason="awaiting proofs",
            state=State.UNVERIFIED.value,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
            topics=[],
            tags=[],
        )
        session.add(entry)
        if lookup is None:
            session.flush()
        # else inserted with its batch, at the session's next flush (store.pending)
        outcome = "new"
        add_row(session, Event, {  # written with the batch (store.pending), if it collects
            "entry_id": entry, "kind": EventKind.NEW_ENTRY.value, "at": now,
            "detail": {"slug": entry.slug, "name": entry.name, "kind": entry.kind}})
    else:
        write_pending(session)  # what follows reads this entry's rows, maybe collected ones
    # An entry created just now has no other source yet.
    merged = outcome != "new" and merge.is_merged(session, entry, source)
    # A second source never takes the entry away from the institution the first one named.
    # (an institution created in this harvest batch may not have its id yet)
    if institution is not None and (
            institution.id is None or entry.institution_id != institution.id) and (
            entry.institution_id is None or entry.source_id == source.id):
        entry.institution_id = institution.id
        entry.institution = institution  # loaded, even while the entry is pending
        outcome = "updated" if outcome != "new" else outcome
    for name, value in candidate.fields.items():
        if name not in ENTRY_FIELDS:
            continue
        if merge.record_field(session, entry, name, value, source, candidate.record_url,
                              merged=merged, fresh=outcome == "new"):
            outcome = "updated" if outcome != "new" else outcome
    if outcome == "updated":
        entry.updated_at = now
    if lookup is not None:
        lookup.wrote(candidate, entry, source)
    return entry, outcome


def new_slug_base(candidate: Candidate) -> str:
    """The slug a new entry for ``candidate`` gets, unless it is taken (then base-N)."""
    return slugify(merge.slug_base(candidate))


def entry_by_slug(session: Session, slug: str) -> Entry | None:
    return session.scalar(
        select(Entry)
        .options(joinedload(Entry.institution), joinedload(Entry.source))
        .where(Entry.slug == slug)
    )


def list_entries(
    session: Session,
    *,
    status: Status | None = Status.APPROVED,
    limit: int = 50,
    offset: int = 0,
    kind: str | None = None,
    country: str | None = None,
    state: str | None = None,
) -> tuple[Sequence[Entry], int]:
    query = select(Entry)
    if status is not None:
        query = query.where(Entry.status == status.value)
    if kind:
        query = query.where(Entry.kind == kind.upper())
    if country:
        query = query.where(Entry.country == country.upper())
    if state:
        query = query.where(Entry.state == state.upper())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(joinedload(Entry.institution))
        .order_by(ENTRY_NAME_ORDER, Entry.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total


def all_entry_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Entry.id).order_by(Entry.id)))


# -- schemas, proofs, scores --------------------------------------------------------------


def save_schema(
    session: Session,
    entry: Entry,
    *,
    captured: CapturedSchema | None,
    captured_from: str,
    error: str | None = None,
) -> None:
    row = session.scalar(select(CapturedSchemaRow).where(CapturedSchemaRow.entry_id == entry.id))
    fields = [asdict(f) for f in captured.fields] if captured else []
    values = {
        "captured_from": captured_from,
        "origin": "declared",
        "spec_format": captured.spec_format if captured else None,
        "spec_version": captured.spec_version if captured else None,
        "fields": fields,
        "field_count": len(fields),
        "filterable_count": captured.filterable_count if captured else 0,
        "operations": [asdict(o) for o in captured.operations] if captured else [],
        "error": error,
    }
    if row is None:
        session.add(CapturedSchemaRow(entry_id=entry.id, captured_at=now_utc(), **values))
        return
    if any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.captured_at = now_utc()


def schema_for(session: Session, entry_id: int) -> CapturedSchemaRow | None:
    return session.scalar(select(CapturedSchemaRow).where(CapturedSchemaRow.entry_id == entry_id))


def save_proofs(
    session: Session, entry: Entry, proofs: list[ProofResult], *, touch: bool = False,
    fresh: bool = False,
) -> None:
    """Store each proof; a proof whose verdict is unchanged keeps its original time, unless
    ``touch`` (a proof just checked again by fetching its pages: the time says when).
    A ``fresh`` entry (created in this transaction) has no proofs to compare with."""
    existing = {} if fresh else {
        p.name: p for p in session.scalars(select(Proof).where(Proof.entry_id == entry.id))}
    for proof in proofs:
        row = existing.get(proof.name.value)
        values = {"held": proof.held, "points": proof.points, "checked": proof.checked,
                  "url": proof.url, "sentence": proof.sentence}
        if fresh:  # written with the batch (store.pending)
            add_row(session, Proof, {"entry_id": entry, "name": proof.name.value,
                                     "checked_at": proof.checked_at, **values})
        elif row is None:
            session.add(Proof(entry_id=entry.id, name=proof.name.value,
                              checked_at=proof.checked_at, **values))
        elif touch or any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.checked_at = proof.checked_at


def proofs_for(session: Session, entry_id: int) -> list[ProofResult]:
    order = {name.value: i for i, name in enumerate(ProofName)}
    rows = sorted(session.scalars(select(Proof).where(Proof.entry_id == entry_id)),
                  key=lambda p: order.get(p.name, 99))
    return [ProofResult(ProofName(r.name), r.held, r.checked, r.url, r.sentence, r.checked_at)
            for r in rows]


def save_score(session: Session, entry: Entry, quality: QualityScore, *,
               stored: Score | None | EllipsisType = ...) -> None:
    """Store the entry's score; ``stored``: its current row when the caller read it."""
    row = (session.scalar(select(Score).where(Score.entry_id == entry.id))
           if stored is ... else stored)
    values = {a.axis: a.score for a in quality.axes}
    values.update(sentences={a.axis: a.sentence for a in quality.axes},
                  composite=quality.composite, composite_exact=quality.composite_exact,
                  tier=quality.tier)
    if row is None:
        session.add(Score(entry_id=entry.id, computed_at=now_utc(), **values))
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.computed_at = now_utc()


def score_for(session: Session, entry_id: int) -> Score | None:
    return session.scalar(select(Score).where(Score.entry_id == entry_id))


# -- checks -------------------------------------------------------------------------------


def snapshot_of(entry: Entry) -> StateSnapshot:
    return StateSnapshot(
        state=State(entry.state),
        consecutive_failures=entry.consecutive_failures,
        last_check_at=entry.last_check_at,
        last_success_at=entry.last_success_at,
        last_outcome=Outcome(entry.last_outcome) if entry.last_outcome else None,
    )


def record_check(session: Session, entry: Entry, result: CheckResult) -> StateSnapshot:
    """Store one check, count it in its hourly roll-up, and move the entry's state.

    All in the caller's transaction: the raw check, its roll-up, the new state and the event
    announcing a state change are committed together or not at all (methodology 4).
    """
    session.add(Check(
        entry_id=entry.id, url=result.url, started_at=result.started_at, method=result.method,
        http_status=result.http_status, latency_ms=result.latency_ms,
        outcome=result.outcome.value, reason=result.reason,
        error=(result.error or None) and result.error[:300], bytes_read=result.bytes_read,
        tls_expires_at=result.tls_expires_at,
    ))
    history.add_to_rollup(session, entry.id, result)
    before = entry.state
    after = apply_check(snapshot_of(entry), result)
    entry.state = effective_state(after, now_utc()).value
    if entry.state != before:
        record_event(session, entry.id, EventKind.STATE_CHANGE, {
            "from": before, "to": entry.state, "outcome": result.outcome.value,
            "reason": result.reason, "url": result.url,
            "consecutive_failures": after.consecutive_failures,
        }, at=result.started_at)
    entry.consecutive_failures = after.consecutive_failures
    entry.last_check_at = after.last_check_at
    entry.last_success_at = after.last_success_at
    entry.last_outcome = after.last_outcome.value if after.last_outcome else None
    return after


def latest_check(session: Session, entry_id: int) -> Check | None:
    return session.scalar(
        select(Check).where(Check.entry_id == entry_id)
        .order_by(Check.started_at.desc(), Check.id.desc()).limit(1)
    )


def uptime(session: Session, entry_id: int, window: timedelta) -> float | None:
    """Successes / decisive checks over ``window``, in percent, from the hourly roll-ups.

    Roll-ups, not raw checks: raw checks are deleted after 90 days, roll-ups are kept.
    """
    return history.uptime(session, entry_id, window)


def history_hours(session: Session, entry_id: int) -> float:
    """Hours since the first roll-up hour: the history the availability cap needs."""
    return history.history_hours(session, entry_id)


def current_state(entry: Entry, now: datetime | None = None) -> State:
    """The state to show now: a VERIFIED entry whose last success is too old reads STALE,
    even before the scheduler has written it."""
    return effective_state(snapshot_of(entry), now or now_utc())
