"""How programs, crawlers and AI agents find their way in: summary counts, llms.txt, sitemap.

All three are generated from the live register on each request; only approved entries are
counted or listed (methodology 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from eurodex.model import Status
from eurodex.publish.links import Links
from eurodex.publish.register import state_expression
from eurodex.store.db import Store
from eurodex.store.tables import ENTRY_NAME_ORDER, Entry, Institution, Score

MCP_TOOLS = ("search_entries", "get_entry", "get_entry_checks", "get_entry_schema",
             "find_authoritative_source")
LLMS_TOP_ENTRIES = 50


@dataclass(frozen=True)
class Summary:
    total: int
    institutions: int
    by_kind: dict[str, int]
    by_country: dict[str, int]
    by_state: dict[str, int]
    by_tier: dict[str, int]
    by_institution_type: dict[str, int]


def _counts(session: Session, column, join=None) -> dict[str, int]:
    query = select(column, func.count()).select_from(Entry)
    if join is not None:
        query = query.outerjoin(*join)
    rows = session.execute(query.where(Entry.status == Status.APPROVED.value)
                           .group_by(column)).all()
    counted: dict[str, int] = {}
    for value, n in rows:
        key = value if value is not None else "none"
        counted[key] = counted.get(key, 0) + n
    return dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))


def summary(session: Session, now: datetime) -> Summary:
    """Approved entries counted by kind, country, state (as shown now), tier and type."""
    by_kind = _counts(session, Entry.kind)
    institutions = session.scalar(
        select(func.count(Entry.institution_id.distinct()))
        .where(Entry.status == Status.APPROVED.value)) or 0
    return Summary(
        total=sum(by_kind.values()),
        institutions=institutions,
        by_kind=by_kind,
        by_country=_counts(session, Entry.country),
        by_state=_counts(session, state_expression(now)),
        by_tier=_counts(session, Score.tier, (Score, Score.entry_id == Entry.id)),
        by_institution_type=_counts(session, Institution.type,
                                    (Institution, Institution.id == Entry.institution_id)),
    )


def _best_entries(session: Session, limit: int) -> list[tuple[Entry, Score]]:
    rows = session.execute(
        select(Entry, Score).join(Score, Score.entry_id == Entry.id)
        .options(joinedload(Entry.institution))
        .where(Entry.status == Status.APPROVED.value)
        .order_by(Score.composite.desc(), ENTRY_NAME_ORDER, Entry.id).limit(limit)).all()
    return [(entry, score) for entry, score in rows]


def llms_txt(session: Session, links: Links, now: datetime) -> str:
    """``/llms.txt``: what the register holds and every door into it, in Markdown."""
    counts = summary(session, now)
    apis = counts.by_kind.get("API", 0)
    datasets = counts.by_kind.get("DATASET", 0)
    countries = len([c for c in counts.by_country if c != "none"])
    lines = [
        "# eurodex",
        "",
        f"> A continuously verified register of official European public-sector APIs and "
        f"datasets: {counts.total} approved entries ({apis} APIs, {datasets} datasets) from "
        f"{counts.institutions} institutions in {countries} countries. Each entry is admitted "
        f"by its proofs of officialness or by a trusted catalogue, its officialness score "
        f"counts only the proofs that hold (with their evidence), its URL is checked around "
        f"the clock, and its metadata is scored. Figures as of {now:%Y-%m-%d %H:%M} UTC.",
        "",
        "Programs should use the JSON API or the MCP server; every entry also has a page for "
        "people. Only approved entries are listed anywhere below.",
        "",
        "## For programs and agents",
        "",
        f"- [OpenAPI 3.1 description]({links.absolute('/openapi.json')}): every JSON route "
        "with its response model",
        f"- [Search]({links.api('/entries/search')}?q=...): words and facet filters "
        "(country, kind, topic, institution_type, tier, state), with facet counts",
        f"- [MCP server]({links.absolute('/mcp')}): streamable HTTP, read-only tools "
        + ", ".join(f"`{name}`" for name in MCP_TOOLS),
        f"- [Register summary]({links.api('/catalog/summary')}): counts by kind, country, "
        "state, tier and institution type",
        f"- [DCAT-AP 3.0.1 catalogue, Turtle]({links.api('/catalog/dcat.ttl')}) and "
        f"[JSON-LD]({links.api('/catalog/dcat.jsonld')}), with W3C DQV quality measurements",
        f"- [All entries as JSON]({links.api('/export/entries.json')}) and "
        f"[as CSV]({links.api('/export/entries.csv')})",
        f"- [Changes, Atom]({links.api('/feeds/atom')}) and [RSS]({links.api('/feeds/rss')}):"
        " new entries, state changes, schema changes, retirements",
        "",
        "## Methodology",
        "",
        f"- [How entries are proven, checked and scored]({links.methodology}): officialness "
        "(0-100), admission, verification states, the five quality axes and tiers",
        "",
        "## Countries",
        "",
    ]
    for country, n in counts.by_country.items():
        if country != "none":
            lines.append(f"- [{country}]({links.home}?{urlencode({'country': country})}): "
                         f"{n} entries")
    lines += ["", "## Best-scored entries", ""]
    for entry, score in _best_entries(session, LLMS_TOP_ENTRIES):
        who = f", {entry.institution.name}" if entry.institution else ""
        lines.append(f"- [{_md(entry.name)}]({links.entry(entry.slug)}): {entry.kind}"
                     f"{', ' + entry.country if entry.country else ''}{_md(who)}, score "
                     f"{score.composite} ({score.tier}), {entry.state}")
    lines += ["", "## Optional", "",
              f"- [Sitemap]({links.absolute('/sitemap.xml')}): every entry and institution "
              "page", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Link text that cannot break the Markdown list around it."""
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def sitemap_chunks(store: Store, links: Links, now: datetime, batch: int = 1000
                   ) -> Iterator[str]:
    """``/sitemap.xml``: the register's pages, every approved entry and its institutions."""
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
    for path in ("/", "/methodology", "/institutions"):
        yield f"<url><loc>{escape(links.absolute(path))}</loc></url>\n"
    after = 0
    while True:
        with store.session() as session:
            rows = session.execute(
                select(Entry.id, Entry.slug, Entry.updated_at)
                .where(Entry.status == Status.APPROVED.value, Entry.id > after)
                .order_by(Entry.id).limit(batch)).all()
        if not rows:
            break
        yield "".join(f"<url><loc>{escape(links.entry(slug))}</loc>"
                      f"<lastmod>{updated:%Y-%m-%d}</lastmod></url>\n"
                      for _, slug, updated in rows)
        after = rows[-1][0]
    with store.session() as session:
        slugs = session.scalars(
            select(Institution.slug).where(Institution.id.in_(
                select(Entry.institution_id).where(Entry.status == Status.APPROVED.value)))
            .order_by(Institution.slug)).all()
    for slug in slugs:
        yield f"<url><loc>{escape(links.institution(slug))}</loc></url>\n"
    yield "</urlset>\n"
