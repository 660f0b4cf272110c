"""``/api/v1/catalog/dcat.ttl`` and ``.jsonld``: the register as a DCAT-AP 3.0.1 catalogue.

Streamed entry by entry (``eurodex.publish.dcat``): a large register never sits in memory.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from eurodex.publish.dcat import DcatExport, jsonld_chunks, turtle_chunks
from eurodex.publish.links import Links
from eurodex.publish.register import approved_entries
from eurodex.store import repository as repo

router = APIRouter(prefix="/api/v1/catalog", tags=["catalogue"])
HEADERS = {"Cache-Control": "public, max-age=300"}


def _export(request: Request):
    now = repo.now_utc()
    export = DcatExport(Links.at(str(request.base_url)), now)
    return export, approved_entries(request.app.state.store, now)


@router.get("/dcat.ttl", name="dcat_turtle", response_class=StreamingResponse,
            responses={200: {"content": {"text/turtle": {}},
                              "description": "The DCAT-AP 3.0.1 catalogue in Turtle"}})
def dcat_turtle(request: Request) -> StreamingResponse:
    """Approved APIs as dcat:DataService, datasets as dcat:Dataset with distributions; each
    entry's quality axes and availability as W3C DQV quality measurements."""
    export, items = _export(request)
    return StreamingResponse(turtle_chunks(export, items), media_type="text/turtle",
                             headers=HEADERS)


@router.get("/dcat.jsonld", name="dcat_jsonld", response_class=StreamingResponse,
            responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}},
                              "description": "The DCAT-AP 3.0.1 catalogue in JSON-LD"}})
def dcat_jsonld(request: Request) -> StreamingResponse:
    """The same catalogue in JSON-LD, its context inline (nothing to fetch)."""
    export, items = _export(request)
    return StreamingResponse(jsonld_chunks(export, items), media_type="application/ld+json",
                             headers=HEADERS)
