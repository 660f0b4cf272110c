"""The register for AI agents: an MCP server at ``/mcp`` (streamable HTTP, read-only tools).

Built with the official ``mcp`` SDK. Its session manager must run for as long as the app
serves, and can run only once, so the web app's lifespan starts a fresh server and manager
each time it starts (``McpEndpoint.running``); until then, and after, ``/mcp`` answers 503.
The transport is stateless with JSON answers: any replica can answer any request, and no
session is kept between them.

The tools only read stored facts, like every other publication of the register; they see
approved entries for searches (methodology 3) and any published entry by its slug.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from eurodex import __version__
from eurodex.harvest.themes import EU_THEMES
from eurodex.model import Status
from eurodex.publish.links import Links
from eurodex.search import InvalidQuery, SearchQuery, search
from eurodex.store import browse, history
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry, Score
from eurodex.web.api import ProofOut, SchemaFieldOut
from eurodex.web.api_checks import CheckRecord
from eurodex.web.views import AXIS_LABELS, AXIS_WEIGHTS

log = logging.getLogger("eurodex.web")

# The base URL of the request being answered, so that tools give absolute links.
_BASE_URL: contextvars.ContextVar[str] = contextvars.ContextVar("eurodex_mcp_base", default="")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)
INSTRUCTIONS = (
    "eurodex is a continuously verified register of official European public-sector APIs "
    "and datasets. Search it, read an entry's officialness proofs and quality score, its "
    "checks and uptime and its captured data schema, or ask for the authoritative source of "
    "a topic in a country. Countries are ISO 3166-1 alpha-2 codes (FR, DE, NL) or EU."
)


# The best matches compared for authority: enough to find the official one among near
# namesakes, few enough that an entry merely mentioning the topic is not considered.
AUTHORITY_CANDIDATES = 10


class ToolFailed(ToolError):
    """A tool cannot answer: an unknown slug or a bad parameter (the agent reads why)."""


# -- what the tools answer ------------------------------------------------------------------


class EntryHit(BaseModel):
    slug: str
    name: str
    kind: str
    country: str | None
    institution: str | None
    state: str
    composite: int | None
    tier: str | None
    page_url: str
    api_url: str


class SearchAnswer(BaseModel):
    total: int = Field(description="approved entries matching, of which `entries` is a page")
    entries: list[EntryHit]


class AxisFact(BaseModel):
    axis: str
    label: str
    weight: int
    score: int
    sentence: str


class EntryAnswer(EntryHit):
    summary: str | None
    description: str | None
    status: str
    status_reason: str
    base_url: str | None
    docs_url: str | None
    spec_url: str | None
    homepage_url: str | None
    licence: str | None
    auth_type: str | None
    rate_limit: str | None
    topics: list[str]
    officialness: int = Field(description="sum of the proofs that hold, 0-100")
    proofs: list[ProofOut]
    axes: list[AxisFact]
    last_check_at: datetime | None
    uptime: dict[str, float | None]
    methodology: str


class ChecksAnswer(BaseModel):
    slug: str
    state: str
    last_check_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    uptime: dict[str, float | None] = Field(description="percent over 24h, 7d, 30d, 90d")
    total: int = Field(description="raw checks kept (90 days)")
    checks: list[CheckRecord] = Field(description="the latest checks, newest first")


class SchemaAnswer(BaseModel):
    slug: str
    captured: bool
    captured_at: datetime | None = None
    captured_from: str | None = None
    origin: str | None = Field(None, description="declared (a spec) or sampled (files)")
    spec_format: str | None = None
    spec_version: str | None = None
    field_count: int = 0
    filterable_count: int = 0
    fields: list[SchemaFieldOut] = Field(default_factory=list)
    error: str | None = None


class Candidate(EntryHit):
    officialness: int
    proven_by: list[str] = Field(description="the sentences of the proofs that hold")


class AuthoritativeAnswer(BaseModel):
    topic: str
    country: str
    matched_by: str = Field(description="words (names, descriptions, tags) or theme")
    theme: str | None = None
    considered: int = Field(description="matching approved entries compared")
    best: Candidate | None
    why: str
    alternatives: list[Candidate]


# -- reading the register -------------------------------------------------------------------


def _links() -> Links:
    return Links.at(_BASE_URL.get())


def _hit(entry: Entry, score: Score | None, links: Links) -> dict:
    return {
        "slug": entry.slug, "name": entry.name, "kind": entry.kind, "country": entry.country,
        "institution": entry.institution.name if entry.institution else None,
        "state": repo.current_state(entry).value,
        "composite": score.composite if score else None, "tier": score.tier if score else None,
        "page_url": links.entry(entry.slug), "api_url": links.entry_json(entry.slug),
    }


def _published(session, slug: str) -> Entry:
    entry = repo.entry_by_slug(session, slug)
    if entry is None or entry.status == Status.REJECTED.value:
        raise ToolFailed(f"no entry {slug!r} in this register: search_entries finds slugs")
    return entry


def _search(session, query: SearchQuery):
    try:
        return search(session, query)
    except InvalidQuery as exc:
        raise ToolFailed(str(exc)) from exc


def _officialness(session, entry_id: int) -> tuple[int, list[str]]:
    proofs = repo.proofs_for(session, entry_id)
    held = [p for p in proofs if p.held]
    return min(100, sum(p.points for p in held)), [p.sentence for p in held]


def _theme_for(topic: str) -> str | None:
    """An EU data theme named by its code or by a word of its label ("transport")."""
    text = topic.strip()
    if text.upper() in EU_THEMES:
        return text.upper()
    words = text.lower().split()
    for code, label in EU_THEMES.items():
        if words and all(w in label.lower() for w in words):
            return code
    return None


def build_server(store: Store) -> MCPServer:
    """The MCP server with the register's read-only tools."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        server = MCPServer("eurodex", title="eurodex register", version=__version__,
                           instructions=INSTRUCTIONS)
    finally:
        # The SDK's constructor calls logging.basicConfig(); logging is the operator's.
        root.handlers[:] = handlers
        root.setLevel(level)

    @server.tool(annotations=READ_ONLY)
    def search_entries(query: str = "", country: str | None = None, kind: str | None = None,
                       topic: str | None = None,
                       limit: Annotated[int, Field(ge=1, le=50)] = 10) -> SearchAnswer:
        """Search approved entries by words (names, descriptions, institutions, tags; accents
        and case ignored) and filters: country (FR, DE, EU...), kind (API or DATASET), topic
        (an EU data theme code such as EDUC or TRAN). Best matches first."""
        links = _links()
        query_ = SearchQuery(text=query, country=country, kind=kind, topic=topic,
                             limit=limit, with_facets=False)
        with store.session() as session:
            result = _search(session, query_)
            hits = [EntryHit(**_hit(item.entry, item.score, links))
                    for item in browse.listed_entries(session, result.ids)]
        return SearchAnswer(total=result.total, entries=hits)

    @server.tool(annotations=READ_ONLY)
    def get_entry(slug: str) -> EntryAnswer:
        """One entry: its facts, its officialness proofs with their evidence, and its quality
        score axis by axis with the sentence explaining each."""
        links = _links()
        with store.session() as session:
            entry = _published(session, slug)
            score = repo.score_for(session, entry.id)
            proofs = repo.proofs_for(session, entry.id)
            axes = [AxisFact(axis=axis, label=label, weight=AXIS_WEIGHTS[axis],
                             score=getattr(score, axis), sentence=score.sentences.get(axis, ""))
                    for axis, label in AXIS_LABELS.items()] if score else []
            return EntryAnswer(
                **_hit(entry, score, links), summary=entry.summary,
                description=entry.description, status=entry.status,
                status_reason=entry.status_reason, base_url=entry.base_url,
                docs_url=entry.docs_url, spec_url=entry.spec_url,
                homepage_url=entry.homepage_url, licence=entry.licence,
                auth_type=entry.auth_type, rate_limit=entry.rate_limit,
                topics=list(entry.topics or []),
                officialness=min(100, sum(p.points for p in proofs)),
                proofs=[ProofOut(name=p.name.value, held=p.held, points=p.points,
                                 checked=p.checked, url=p.url, sentence=p.sentence,
                                 checked_at=p.checked_at) for p in proofs],
                axes=axes, last_check_at=entry.last_check_at,
                uptime=history.uptimes(session, entry.id), methodology=links.methodology)

    @server.tool(annotations=READ_ONLY)
    def get_entry_checks(slug: str,
                         limit: Annotated[int, Field(ge=1, le=100)] = 20) -> ChecksAnswer:
        """An entry's verification: its state now, uptime % over 24 h, 7 d, 30 d and 90 d,
        and its latest checks (URL, method, HTTP status, latency, outcome, reason)."""
        now = repo.now_utc()
        with store.session() as session:
            entry = _published(session, slug)
            rows, total = history.checks_page(session, entry.id, limit=limit,
                                              offset=0)
            return ChecksAnswer(
                slug=entry.slug, state=repo.current_state(entry, now).value,
                last_check_at=entry.last_check_at, last_success_at=entry.last_success_at,
                consecutive_failures=entry.consecutive_failures,
                uptime=history.uptimes(session, entry.id, now), total=total,
                checks=[CheckRecord(url=c.url, started_at=c.started_at, method=c.method,
                                    http_status=c.http_status, latency_ms=c.latency_ms,
                                    outcome=c.outcome, reason=c.reason, error=c.error,
                                    bytes_read=c.bytes_read, tls_expires_at=c.tls_expires_at)
                        for c in rows])

    @server.tool(annotations=READ_ONLY)
    def get_entry_schema(slug: str) -> SchemaAnswer:
        """The data schema captured from the entry's OpenAPI document: the fields filterable
        via the API first, then the response fields, each with its type and description."""
        with store.session() as session:
            entry = _published(session, slug)
            row = repo.schema_for(session, entry.id)
            if row is None:
                return SchemaAnswer(slug=entry.slug, captured=False,
                                    error="no specification has been captured for this entry")
            return SchemaAnswer(
                slug=entry.slug, captured=not row.error, captured_at=row.captured_at,
                captured_from=row.captured_from, origin=row.origin,
                spec_format=row.spec_format, spec_version=row.spec_version,
                field_count=row.field_count, filterable_count=row.filterable_count,
                fields=[SchemaFieldOut(**f) for f in row.fields], error=row.error)

    @server.tool(annotations=READ_ONLY)
    def find_authoritative_source(topic: str, country: str,
                                  kind: str | None = None) -> AuthoritativeAnswer:
        """The most authoritative approved entry for a topic in a country: among the entries
        matching the topic's words best (or, failing that, its EU data theme), the one with
        the strongest proof of officialness, then the closest match; with the proofs that
        make it authoritative and a few alternatives."""
        return _authoritative(store, _links(), topic, country, kind)

    return server


def _authoritative(store: Store, links: Links, topic: str, country: str,
                   kind: str | None) -> AuthoritativeAnswer:
    theme = None
    with store.session() as session:
        result = _search(session, SearchQuery(text=topic, country=country, kind=kind,
                                              limit=AUTHORITY_CANDIDATES, with_facets=False))
        matched_by = "words"
        if not result.ids and (theme := _theme_for(topic)):
            matched_by = "theme"
            result = _search(session, SearchQuery(topic=theme, country=country, kind=kind,
                                                  sort="score", limit=AUTHORITY_CANDIDATES,
                                                  with_facets=False))
        ranked = []
        for position, item in enumerate(browse.listed_entries(session, result.ids)):
            points, sentences = _officialness(session, item.entry.id)
            ranked.append((-points, position, Candidate(
                **_hit(item.entry, item.score, links), officialness=points,
                proven_by=sentences)))
    ranked.sort(key=lambda row: row[:2])
    candidates = [row[2] for row in ranked]
    country_code = country.strip().upper()
    if not candidates:
        return AuthoritativeAnswer(
            topic=topic, country=country_code, matched_by=matched_by, theme=theme,
            considered=0, best=None, alternatives=[],
            why=f"No approved entry in {country_code} matches {topic!r}.")
    best = candidates[0]
    why = (f"Of {len(candidates)} approved entries in {country_code} matching {topic!r}, "
           f"{best.name} has the strongest proof of officialness ({best.officialness}/100)"
           + (f" and a quality score of {best.composite} ({best.tier})" if best.tier else "")
           + (": " + "; ".join(best.proven_by) if best.proven_by else "") + ".")
    return AuthoritativeAnswer(topic=topic, country=country_code, matched_by=matched_by,
                               theme=theme, considered=len(candidates), best=best, why=why,
                               alternatives=candidates[1:5])


# -- serving it -----------------------------------------------------------------------------


class McpEndpoint:
    """The ASGI endpoint mounted at ``/mcp``; it serves while ``running()`` is entered."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._handler: StreamableHTTPASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        server = build_server(self.store)
        server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True,
            # The tools read public data only, the same the JSON API serves to any origin;
            # the app's own host check (web/hosts.py) refuses names the operator did not list.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with server.session_manager.run():
            self._handler = StreamableHTTPASGIApp(server.session_manager)
            try:
                yield
            finally:
                self._handler = None

    async def __call__(self, scope, receive, send) -> None:
        if self._handler is None:
            response = JSONResponse({"ok": False, "status": 503,
                                     "error": "the MCP server is not running"}, 503)
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "GET":
            # Stateless: there is no server-sent event stream to open, and the SDK would hold
            # a GET open for ever. The transport lets a server answer 405 here.
            response = JSONResponse({"ok": False, "status": 405, "error": "the MCP endpoint "
                                     "takes JSON-RPC requests by POST; it has no event stream"},
                                    405, headers={"allow": "POST"})
            await response(scope, receive, send)
            return
        token = _BASE_URL.set(str(Request(scope).base_url))
        try:
            await self._handler(scope, receive, send)
        finally:
            _BASE_URL.reset(token)
