"""``/api/v1/export/entries.json`` and ``.csv``: every approved entry, streamed.

The documents are those ``eurodex export DIR`` writes (``eurodex.publish.exports``); the
models below describe the JSON one for the OpenAPI description.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from eurodex.publish import exports
from eurodex.publish.links import Links
from eurodex.publish.register import approved_entries
from eurodex.store import repository as repo

router = APIRouter(prefix="/api/v1/export", tags=["exports"])


class ExportInstitution(BaseModel):
    slug: str
    name: str
    type: str
    country: str


class ExportScore(BaseModel):
    composite: int
    tier: str
    officialness: int
    availability: int
    metadata_completeness: int
    licence_clarity: int
    agent_readiness: int


class ExportEntry(BaseModel):
    slug: str
    kind: str
    name: str
    summary: str | None
    description: str | None
    country: str | None
    institution: ExportInstitution | None
    topics: list[str]
    tags: list[str]
    base_url: str | None
    docs_url: str | None
    spec_url: str | None
    homepage_url: str | None
    landing_page: str | None
    contact: str | None
    licence: str | None
    licence_id: str | None
    auth_type: str | None
    state: str = Field(description="the state now: VERIFIED turns STALE after 24 h")
    last_check_at: str | None
    last_success_at: str | None
    uptime_30d: float | None = Field(description="percent of decisive checks, 30 days")
    score: ExportScore | None
    page_url: str
    api_url: str
    badge_url: str
    updated_at: str


class EntriesExport(BaseModel):
    generated_at: str
    methodology: str
    entries: list[ExportEntry]
    count: int = Field(description="how many entries the document holds")


def _stream(request: Request):
    store = request.app.state.store
    return approved_entries(store, repo.now_utc(), with_details=False), Links.at(
        str(request.base_url))


@router.get("/entries.json", response_model=EntriesExport, name="export_json")
def export_json(request: Request) -> StreamingResponse:
    """Every approved entry with its state, uptime and score, streamed as one JSON document."""
    items, links = _stream(request)
    return StreamingResponse(exports.json_chunks(items, links, repo.now_utc()),
                             media_type="application/json",
                             headers={"Cache-Control": "public, max-age=300"})


@router.get("/entries.csv", name="export_csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}},
                             "description": "One row per approved entry"}})
def export_csv(request: Request) -> StreamingResponse:
    """The same entries as CSV: one row each, lists joined with ``;``."""
    items, links = _stream(request)
    return StreamingResponse(
        exports.csv_chunks(items, links), media_type="text/csv",
        headers={"Cache-Control": "public, max-age=300",
                 "Content-Disposition": 'attachment; filename="eurodex-entries.csv"'})
