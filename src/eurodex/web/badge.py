"""Embeddable badges: an entry's verification state and tier, or its 30-day uptime.

Each comes as an SVG image and as a shields.io "endpoint" JSON document (shields.io draws its
own badge from it). Badges are fetched on every view of every page that embeds one, so they
carry a strong ETag (a conditional request costs one hash, and gets 304 Not Modified) and may
be cached for five minutes, or served stale for a day while the register is unreachable.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from eurodex.model import Status
from eurodex.store import repository as repo

router = APIRouter(tags=["badges"])

STATE_COLOURS = {"VERIFIED": "#2e7d32", "STALE": "#b26a00", "FAILING": "#c62828",
                 "UNVERIFIED": "#616161"}
GREY = "#616161"
CACHE_CONTROL = "public, max-age=300, stale-if-error=86400"
LABEL = "eurodex"
UPTIME_LABEL = "uptime 30d"


class ShieldsEndpoint(BaseModel):
    """The shields.io endpoint badge schema (https://shields.io/badges/endpoint-badge)."""

    schemaVersion: int = Field(1, description="always 1")
    label: str
    message: str
    color: str = Field(description="hex colour without '#'")
    cacheSeconds: int = Field(description="how long shields.io may keep the badge")


def _text_width(text: str) -> int:
    """A width estimate good enough for Verdana 11px, so no font metrics are needed."""
    return 7 * len(text) + 10


def badge_svg(label: str, message: str, colour: str) -> str:
    left, right = _text_width(label), _text_width(message)
    total = left + right
    label, message = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{left / 2}" y="14">{label}</text>'
        f'<text x="{left + right / 2}" y="14">{message}</text></g></svg>'
    )


def uptime_colour(uptime: float | None) -> str:
    """The chart's bands: green from 99.5 %, amber from 95 %, red below, grey without data."""
    if uptime is None:
        return GREY
    if uptime >= 99.5:
        return "#2e7d32"
    if uptime >= 95:
        return "#b26a00"
    return "#c62828"


def _state_badge(request: Request, slug: str) -> tuple[str, str]:
    """The message and colour of the state-and-tier badge; 404 for what is not published."""
    with request.app.state.store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None or entry.status == Status.REJECTED.value:
            raise HTTPException(status_code=404, detail=f"no entry {slug!r} in this register")
        score = repo.score_for(session, entry.id)
        state = repo.current_state(entry).value
    message = state.lower() + (f" · {score.tier}" if score else "")
    return message, STATE_COLOURS.get(state, GREY)


def _uptime_badge(request: Request, slug: str) -> tuple[str, str]:
    with request.app.state.store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None or entry.status == Status.REJECTED.value:
            raise HTTPException(status_code=404, detail=f"no entry {slug!r} in this register")
        uptime = repo.uptime(session, entry.id, timedelta(days=30))
    message = "no data" if uptime is None else f"{uptime:.2f}".rstrip("0").rstrip(".") + " %"
    return message, uptime_colour(uptime)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    """If-None-Match holds this ETag (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _cached(request: Request, body: bytes, media_type: str) -> Response:
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    if media_type == "application/json":
        headers["Access-Control-Allow-Origin"] = "*"  # public data, read by any page's script
    return Response(body, media_type=media_type, headers=headers)


def _svg(request: Request, label: str, message: str, colour: str) -> Response:
    return _cached(request, badge_svg(label, message, colour).encode(), "image/svg+xml")


def _shields(request: Request, label: str, message: str, colour: str) -> Response:
    document = ShieldsEndpoint(label=label, message=message, color=colour.lstrip("#"),
                               cacheSeconds=300)
    return _cached(request, json.dumps(document.model_dump()).encode(), "application/json")


_SVG = {200: {"content": {"image/svg+xml": {}}, "description": "The badge"},
        304: {"description": "Not modified: the badge is the one the ETag names"}}
_JSON = {304: {"description": "Not modified: the badge is the one the ETag names"}}


@router.get("/badge/{slug}.svg", name="badge", response_class=Response, responses=_SVG)
def badge(request: Request, slug: str) -> Response:
    """The entry's verification state and quality tier, as an SVG badge."""
    return _svg(request, LABEL, *_state_badge(request, slug))


@router.get("/badge/{slug}.json", name="badge_shields", response_model=ShieldsEndpoint,
            responses=_JSON)
def badge_shields(request: Request, slug: str) -> Response:
    """The same badge as a shields.io endpoint document."""
    return _shields(request, LABEL, *_state_badge(request, slug))


@router.get("/badge/{slug}/uptime.svg", name="badge_uptime", response_class=Response,
            responses=_SVG)
def badge_uptime(request: Request, slug: str) -> Response:
    """The entry's uptime over the last 30 days, as an SVG badge."""
    return _svg(request, UPTIME_LABEL, *_uptime_badge(request, slug))


@router.get("/badge/{slug}/uptime.json", name="badge_uptime_shields",
            response_model=ShieldsEndpoint, responses=_JSON)
def badge_uptime_shields(request: Request, slug: str) -> Response:
    """The uptime badge as a shields.io endpoint document."""
    return _shields(request, UPTIME_LABEL, *_uptime_badge(request, slug))
