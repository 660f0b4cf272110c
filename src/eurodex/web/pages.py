"""HTML pages: entry pages and the methodology (the home page is web/home.py)."""

from __future__ import annotations

import functools
import re
from importlib import resources

import nh3
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markdown_it import MarkdownIt
from unidecode import unidecode

from eurodex.model import Status
from eurodex.publish.links import Links
from eurodex.publish.schemaorg import entry_jsonld, script_json
from eurodex.store import repository as repo
from eurodex.store.distributions import distributions_for
from eurodex.web.curl import curl_examples
from eurodex.web.dataset_view import dataset_panel, sources_view
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
    html = nh3.clean(_markdown.render(text), tags=_ALLOWED_TAGS | {"h1"},
                     attributes={"a": {"href"}})
    return _HEADING.sub(_anchored, html)


# Section headings get ids ("5. Quality score" -> "5-quality-score"), so that entry pages can
# link each score and proof to the rule that produced it.
_HEADING = re.compile(r"<(h[23])>(.*?)</\1>")


def _anchored(match: re.Match[str]) -> str:
    tag, inner = match.group(1), match.group(2)
    anchor = re.sub(r"[^a-z0-9]+", "-", unidecode(re.sub(r"<[^>]+>", "", inner)).lower())
    return f'<{tag} id="{anchor.strip("-")}">{inner}</{tag}>'


def _templates(request: Request):
    return request.app.state.templates


@router.get("/entry/{slug}", response_class=HTMLResponse, name="entry_page")
def entry_page(request: Request, slug: str):
    with request.app.state.store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None or entry.status == Status.REJECTED.value:
            raise HTTPException(status_code=404, detail=f"no entry {slug!r} in this register")
        sources = sources_view(session, entry)
        if entry.status == Status.RETIRED.value and sources.replaced_by_slug:
            # A retired entry with a known successor moves there for good.
            return RedirectResponse(
                request.app.url_path_for("entry_page", slug=sources.replaced_by_slug),
                status_code=301)
        view = entry_view(session, entry)
        description_html = render_markdown(entry.description)
        curl = curl_examples(entry, view.schema)
        dataset = dataset_panel(session, entry)
        jsonld = script_json(entry_jsonld(entry, view.score,
                                          distributions_for(session, entry.id),
                                          Links.at(str(request.base_url))))
    return _templates(request).TemplateResponse(
        request, "entry.html", {"v": view, "e": view.entry, "description_html": description_html,
                                "curl": curl, "dataset": dataset, "sources": sources,
                                "jsonld": jsonld},
    )


@router.get("/methodology", response_class=HTMLResponse, name="methodology_page")
def methodology(request: Request):
    return _templates(request).TemplateResponse(
        request, "methodology.html", {"body": methodology_html()}
    )
