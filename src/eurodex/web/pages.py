"""HTML pages: the home listing, entry pages and the methodology."""

from __future__ import annotations

import functools
from importlib import resources

import nh3
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt

from eurodex.model import Status
from eurodex.store import repository as repo
from eurodex.web.views import entry_view

router = APIRouter(include_in_schema=False)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# What survives sanitising: text formatting, lists, tables and plain links. No scripts, no
# styles, no event handlers, and only http(s) and mailto links.
_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}


def render_markdown(text: str | None) -> str:
    """Markdown rendered, then sanitised: a harvested description can never run script."""
    if not text:
        return ""
    html = _markdown.render(text)
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")


@functools.cache
def methodology_html() -> str:
    text = (resources.files("eurodex.docs") / "methodology.md").read_text("utf-8")
    return nh3.clean(_markdown.render(text), tags=_ALLOWED_TAGS | {"h1"},
                     attributes={"a": {"href"}})


def _templates(request: Request):
    return request.app.state.templates


@router.get("/", response_class=HTMLResponse, name="home_page")
def home(request: Request, page: int = Query(1, ge=1)):
    per_page = 50
    with request.app.state.store.session() as session:
        rows, total = repo.list_entries(session, limit=per_page, offset=(page - 1) * per_page)
        items = [(e, repo.score_for(session, e.id)) for e in rows]
        institutions = repo.count_institutions(session)
    pages = max(1, -(-total // per_page))
    return _templates(request).TemplateResponse(
        request, "index.html",
        {"items": items, "total": total, "page": page, "pages": pages,
         "institution_count": institutions},
    )


@router.get("/entry/{slug}", response_class=HTMLResponse, name="entry_page")
def entry_page(request: Request, slug: str):
    with request.app.state.store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None or entry.status == Status.REJECTED.value:
            raise HTTPException(status_code=404, detail=f"no entry {slug!r} in this register")
        view = entry_view(session, entry)
        description_html = render_markdown(entry.description)
    return _templates(request).TemplateResponse(
        request, "entry.html", {"v": view, "e": view.entry, "description_html": description_html},
    )


@router.get("/methodology", response_class=HTMLResponse, name="methodology_page")
def methodology(request: Request):
    return _templates(request).TemplateResponse(
        request, "methodology.html", {"body": methodology_html()}
    )
