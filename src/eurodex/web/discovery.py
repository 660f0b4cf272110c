"""``/llms.txt``, ``/sitemap.xml`` and ``/api/v1/catalog/summary``: finding one's way in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from eurodex.publish import discovery
from eurodex.publish.links import Links
from eurodex.store import repository as repo

router = APIRouter()


class CatalogSummary(BaseModel):
    """Approved entries counted along the register's facets; "none" counts missing values."""

    generated_at: str
    total: int
    institutions: int = Field(description="institutions publishing approved entries")
    by_kind: dict[str, int]
    by_country: dict[str, int] = Field(description="ISO 3166-1 alpha-2, or EU")
    by_state: dict[str, int] = Field(description="the state now (VERIFIED turns STALE)")
    by_tier: dict[str, int] = Field(description="\"none\" for entries not scored yet")
    by_institution_type: dict[str, int]


@router.get("/api/v1/catalog/summary", response_model=CatalogSummary, tags=["catalogue"],
            name="catalog_summary")
def catalog_summary(request: Request) -> CatalogSummary:
    """Counts of approved entries by kind, country, state, tier and institution type."""
    now = repo.now_utc()
    with request.app.state.store.session() as session:
        counts = discovery.summary(session, now)
    return CatalogSummary(
        generated_at=now.isoformat(), total=counts.total, institutions=counts.institutions,
        by_kind=counts.by_kind, by_country=counts.by_country, by_state=counts.by_state,
        by_tier=counts.by_tier, by_institution_type=counts.by_institution_type)


@router.get("/llms.txt", response_class=PlainTextResponse, include_in_schema=False,
            name="llms_txt")
def llms_txt(request: Request) -> PlainTextResponse:
    links = Links.at(str(request.base_url))
    with request.app.state.store.session() as session:
        text = discovery.llms_txt(session, links, repo.now_utc())
    # Markdown, served as plain text so that browsers show it rather than download it.
    return PlainTextResponse(text, headers={"Cache-Control": "public, max-age=300"})


@router.get("/sitemap.xml", include_in_schema=False, name="sitemap")
def sitemap(request: Request) -> StreamingResponse:
    links = Links.at(str(request.base_url))
    chunks = discovery.sitemap_chunks(request.app.state.store, links, repo.now_utc())
    return StreamingResponse(chunks, media_type="application/xml",
                             headers={"Cache-Control": "public, max-age=3600"})
