"""The JSON API under /api/v1: entries, one entry, its quality score.

Every error has one shape, ``{"ok": false, "error": ..., "status": ...}``, set in app.py.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from eurodex.model import Status
from eurodex.search import InvalidQuery, SearchQuery, search
from eurodex.store import browse
from eurodex.store import repository as repo
from eurodex.store.distributions import distributions_for
from eurodex.store.tables import Entry
from eurodex.web.params import (
    Country,
    EntryOffset,
    InstitutionTypeFilter,
    KindFilter,
    Limit,
    StateFilter,
    Tier,
    Topic,
    given_once,
)
from eurodex.web.views import entry_view

router = APIRouter(prefix="/api/v1", tags=["entries"])


class InstitutionOut(BaseModel):
    slug: str
    name: str
    acronym: str | None
    country: str
    type: str


class InstitutionListing(InstitutionOut):
    entries: int


class InstitutionPage(BaseModel):
    total: int
    institutions: list[InstitutionListing]


class EntrySummary(BaseModel):
    slug: str
    kind: str
    name: str
    summary: str | None
    country: str | None
    institution: InstitutionOut | None
    state: str
    status: str
    composite: int | None
    tier: str | None
    url: str


class EntryPage(BaseModel):
    total: int
    limit: int
    offset: int
    entries: list[EntrySummary]


class AxisOut(BaseModel):
    axis: str
    score: int
    weight: int
    sentence: str


class QualityScoreOut(BaseModel):
    slug: str
    composite: int
    composite_exact: float
    tier: str
    axes: list[AxisOut]
    computed_at: datetime
    methodology: str


class ProofOut(BaseModel):
    name: str
    held: bool
    points: int
    checked: str
    url: str | None
    sentence: str
    checked_at: datetime


class SchemaFieldOut(BaseModel):
    name: str
    type: str
    description: str
    owner: str


class SchemaOut(BaseModel):
    captured_at: datetime
    captured_from: str
    origin: str
    spec_format: str | None
    spec_version: str | None
    field_count: int
    filterable_count: int
    fields: list[SchemaFieldOut]
    error: str | None


class CheckOut(BaseModel):
    url: str
    started_at: datetime
    method: str
    http_status: int | None
    latency_ms: int | None
    outcome: str
    reason: str | None


class DistributionOut(BaseModel):
    """One file or service of a dataset, with the outcome of its latest check."""

    url: str
    format: str | None
    media_type: str | None
    byte_size: int | None
    title: str | None
    licence: str | None
    check_outcome: str | None
    check_reason: str | None
    checked_at: datetime | None


class EntryDetail(EntrySummary):
    description: str | None
    topics: list[str]
    tags: list[str]
    base_url: str | None
    docs_url: str | None
    spec_url: str | None
    homepage_url: str | None
    contact: str | None
    rate_limit: str | None
    auth_type: str | None
    licence: str | None
    last_modified: str | None
    status_reason: str
    source: str
    record_url: str | None
    last_check_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_check: CheckOut | None
    uptime: dict[str, float | None]
    proofs: list[ProofOut]
    quality_score: QualityScoreOut | None
    schema_: SchemaOut | None = Field(None, alias="schema")
    # Datasets in full (null or empty for an API): methodology 5's dataset fields.
    landing_page: str | None = None
    licence_id: str | None = None
    licence_category: str | None = None
    temporal_start: str | None = None
    temporal_end: str | None = None
    spatial: str | None = None
    frequency: str | None = None
    distributions: list[DistributionOut] = []

    model_config = {"populate_by_name": True}


def _summary(request: Request, entry: Entry, score) -> dict:
    inst = entry.institution
    return {
        "slug": entry.slug, "kind": entry.kind, "name": entry.name, "summary": entry.summary,
        "country": entry.country,
        "institution": InstitutionOut(slug=inst.slug, name=inst.name, acronym=inst.acronym,
                                      country=inst.country, type=inst.type) if inst else None,
        "state": repo.current_state(entry).value, "status": entry.status,
        "composite": score.composite if score else None, "tier": score.tier if score else None,
        "url": str(request.url_for("entry_page", slug=entry.slug)),
    }


def _quality(request: Request, slug: str, view) -> QualityScoreOut | None:
    if view.score is None:
        return None
    return QualityScoreOut(
        slug=slug, composite=view.score.composite, composite_exact=view.score.composite_exact,
        tier=view.score.tier, computed_at=view.score.computed_at,
        axes=[AxisOut(axis=a.axis, score=a.score, weight=a.weight, sentence=a.sentence)
              for a in view.axes],
        methodology=str(request.url_for("methodology_page")),
    )


def _visible(entry: Entry | None) -> Entry:
    """Rejected entries are not published; approved, quarantined and retired ones are."""
    if entry is None or entry.status == Status.REJECTED.value:
        raise HTTPException(status_code=404, detail="no such entry")
    return entry


@router.get("/entries", response_model=EntryPage, dependencies=[Depends(given_once)])
def list_entries(
    request: Request,
    kind: KindFilter = None,
    country: Country = None,
    state: StateFilter = None,
    topic: Topic = None,
    institution_type: InstitutionTypeFilter = None,
    tier: Tier = None,
    limit: Limit = 50,
    offset: EntryOffset = 0,
) -> EntryPage:
    """Approved entries, filtered and paged, by name (words and facets: /entries/search)."""
    query = SearchQuery(kind=kind, country=country, state=state, topic=topic,
                        institution_type=institution_type, tier=tier, limit=limit,
                        offset=offset, with_facets=False)
    with request.app.state.store.session() as session:
        try:
            result = search(session, query)
        except InvalidQuery as exc:
            raise HTTPException(status_code=422, detail=f"invalid request: {exc}") from exc
        entries = [EntrySummary(**_summary(request, item.entry, item.score))
                   for item in browse.listed_entries(session, result.ids)]
    return EntryPage(total=result.total, limit=limit, offset=offset, entries=entries)


@router.get("/entries/{slug}", response_model=EntryDetail, response_model_by_alias=True)
def get_entry(request: Request, slug: str) -> EntryDetail:
    """One entry with its proofs, score, latest check, uptime and captured schema."""
    with request.app.state.store.session() as session:
        entry = _visible(repo.entry_by_slug(session, slug))
        view = entry_view(session, entry)
        schema = view.schema
        check = view.last_check
        return EntryDetail(
            **_summary(request, entry, view.score),
            description=entry.description, topics=list(entry.topics or []),
            tags=list(entry.tags or []), base_url=entry.base_url, docs_url=entry.docs_url,
            spec_url=entry.spec_url, homepage_url=entry.homepage_url, contact=entry.contact,
            rate_limit=entry.rate_limit, auth_type=entry.auth_type, licence=entry.licence,
            last_modified=entry.last_modified, status_reason=entry.status_reason,
            source=view.source_name, record_url=entry.record_url,
            last_check_at=entry.last_check_at, last_success_at=entry.last_success_at,
            consecutive_failures=entry.consecutive_failures,
            last_check=CheckOut(url=check.url, started_at=check.started_at, method=check.method,
                                http_status=check.http_status, latency_ms=check.latency_ms,
                                outcome=check.outcome, reason=check.reason) if check else None,
            uptime=view.uptime,
            proofs=[ProofOut(name=p.name, held=p.held, points=p.points, checked=p.checked,
                             url=p.url, sentence=p.sentence, checked_at=p.checked_at)
                    for p in view.proofs],
            quality_score=_quality(request, slug, view),
            schema_=SchemaOut(
                captured_at=schema.captured_at, captured_from=schema.captured_from,
                origin=schema.origin, spec_format=schema.spec_format,
                spec_version=schema.spec_version, field_count=schema.field_count,
                filterable_count=schema.filterable_count,
                fields=[SchemaFieldOut(**f) for f in schema.fields], error=schema.error,
            ) if schema else None,
            landing_page=entry.landing_page, licence_id=entry.licence_id,
            licence_category=entry.licence_category, temporal_start=entry.temporal_start,
            temporal_end=entry.temporal_end, spatial=entry.spatial, frequency=entry.frequency,
            distributions=[DistributionOut(
                url=d.url, format=d.format, media_type=d.media_type, byte_size=d.byte_size,
                title=d.title, licence=d.licence, check_outcome=d.check_outcome,
                check_reason=d.check_reason, checked_at=d.checked_at)
                for d in distributions_for(session, entry.id)],
        )


@router.get("/entries/{slug}/quality-score", response_model=QualityScoreOut)
def get_quality_score(request: Request, slug: str) -> QualityScoreOut:
    """The five axes with their sentences, the composite and the tier (methodology 5)."""
    with request.app.state.store.session() as session:
        entry = _visible(repo.entry_by_slug(session, slug))
        quality = _quality(request, slug, entry_view(session, entry))
    if quality is None:
        raise HTTPException(status_code=404, detail="this entry has not been scored yet")
    return quality


@router.get("/institutions", response_model=InstitutionPage, tags=["institutions"])
def list_institutions(request: Request) -> InstitutionPage:
    """The institutions with approved entries, with their number (the home page's count)."""
    with request.app.state.store.session() as session:
        rows = repo.institutions_with_counts(session)
    return InstitutionPage(total=len(rows), institutions=[
        InstitutionListing(slug=i.slug, name=i.name, acronym=i.acronym, country=i.country,
                           type=i.type, entries=n) for i, n in rows])
