"""Search in plain SQL, for databases with neither the SQLite nor the PostgreSQL index.

Correct but simple: each word must appear (case-insensitively, as a substring) in the name,
summary, description, institution name or acronym, or tags; results whose name holds the
words come first. It does not fold accents, so "donnees" does not find "Données" here, and
tags are matched in their stored JSON text, where non-ASCII letters are escaped. Facets are
counted from the matching rows' facet columns in one read.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from eurodex.model import Status
from eurodex.search.query import SearchQuery, SearchResult, sorted_counts
from eurodex.store.tables import ENTRY_NAME_ORDER, Entry, Institution, Score


def _like(column, word: str):
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


class PortableSearch:
    """Substring search and facets with SQLAlchemy expressions only; APPROVED entries only."""

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        query = query.validated()
        conditions = [Entry.status == Status.APPROVED.value]
        name_hits = []
        for term in query.terms:
            columns = (Entry.name, Entry.summary, Entry.description, Institution.name,
                       Institution.acronym, cast(Entry.tags, String))
            conditions.append(or_(*(_like(c, term.word) for c in columns)))
            name_hits.append(_like(Entry.name, term.word))
        filters = query.filters
        for name in ("country", "kind", "state"):
            if name in filters:
                conditions.append(getattr(Entry, name) == filters[name])
        if "institution_type" in filters:
            conditions.append(Institution.type == filters["institution_type"])
        if "tier" in filters:
            conditions.append(Score.tier == filters["tier"])
        if "topic" in filters:
            # Topics are a JSON list of validated codes: its text holds '"EDUC"' exactly when
            # the list holds EDUC, on every database.
            conditions.append(cast(Entry.topics, String).like(f'%"{filters["topic"]}"%'))

        def matching(*columns):
            return (
                select(*columns)
                .outerjoin(Institution, Institution.id == Entry.institution_id)
                .outerjoin(Score, Score.entry_id == Entry.id)
                .where(and_(*conditions))
            )

        rows = session.execute(matching(Entry.country, Entry.kind, Institution.type,
                                        Score.tier, Entry.state, Entry.topics)).all()
        result = SearchResult(total=len(rows), ids=[], ranked_by=query.sort)
        if query.with_facets:
            result.facets, result.counted = _count(rows), len(rows)
        if not rows:
            return result
        order = {
            "score": (Score.composite.desc().nulls_last(), ENTRY_NAME_ORDER, Entry.id),
            "checked": (Entry.last_check_at.desc().nulls_last(), ENTRY_NAME_ORDER, Entry.id),
        }.get(query.sort)
        if order is None:
            ranked = case((and_(*name_hits), 0), else_=1) if name_hits else None
            order = ((ranked,) if ranked is not None else ()) + (ENTRY_NAME_ORDER, Entry.id)
            result.ranked_by = "relevance" if name_hits else "name"
        page = session.scalars(
            matching(Entry.id)
            .order_by(*order)
            .limit(query.limit)
            .offset(query.offset)
        )
        result.ids = list(page)
        return result


def _count(rows) -> dict:
    counters = {name: Counter() for name in
                ("country", "kind", "institution_type", "topic", "tier", "state")}
    for row in rows:
        counters["country"][row.country] += 1
        counters["kind"][row.kind] += 1
        counters["institution_type"][row.type] += 1
        counters["tier"][row.tier] += 1
        counters["state"][row.state] += 1
        for topic in dict.fromkeys(row.topics or []):
            counters["topic"][topic] += 1
    return {name: sorted_counts(counter) for name, counter in counters.items()}
