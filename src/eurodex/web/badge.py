"""The embeddable SVG badge: an entry's verification state and its tier."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from eurodex.model import Status
from eurodex.store import repository as repo

router = APIRouter(include_in_schema=False)

STATE_COLOURS = {"VERIFIED": "#2e7d32", "STALE": "#b26a00", "FAILING": "#c62828",
                 "UNVERIFIED": "#616161"}


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


@router.get("/badge/{slug}.svg", name="badge")
def badge(request: Request, slug: str) -> Response:
    with request.app.state.store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None or entry.status == Status.REJECTED.value:
            raise HTTPException(status_code=404, detail=f"no entry {slug!r} in this register")
        score = repo.score_for(session, entry.id)
        state = entry.state
    message = state.lower() + (f" · {score.tier}" if score else "")
    svg = badge_svg("eurodex", message, STATE_COLOURS.get(state, "#616161"))
    return Response(svg, media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300"})
