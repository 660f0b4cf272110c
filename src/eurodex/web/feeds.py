"""``/api/v1/feeds/rss`` and ``/api/v1/feeds/atom``: what changed in the register."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eurodex.publish import feeds
from eurodex.publish.links import Links
from eurodex.store import repository as repo

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])
HEADERS = {"Cache-Control": "public, max-age=120"}


def _items(request: Request) -> tuple[list[feeds.FeedItem], Links]:
    links = Links.at(str(request.base_url))
    with request.app.state.store.session() as session:
        return feeds.recent_items(session, links), links


@router.get("/rss", name="feed_rss", response_class=Response,
            responses={200: {"content": {"application/rss+xml": {}},
                             "description": "RSS 2.0, the latest 100 changes"}})
def feed_rss(request: Request) -> Response:
    """New entries, state changes, schema changes and retirements, newest first."""
    items, links = _items(request)
    body = feeds.rss(items, links, str(request.url_for("feed_rss")), repo.now_utc())
    return Response(body, media_type="application/rss+xml", headers=HEADERS)


@router.get("/atom", name="feed_atom", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}},
                             "description": "Atom, the latest 100 changes"}})
def feed_atom(request: Request) -> Response:
    """The same changes as an Atom feed."""
    items, links = _items(request)
    body = feeds.atom(items, links, str(request.url_for("feed_atom")), repo.now_utc())
    return Response(body, media_type="application/atom+xml", headers=HEADERS)
