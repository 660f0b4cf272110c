"""Search on PostgreSQL: a tsvector under GIN finds and ranks, its facet columns count.

The behaviour of the SQLite implementation (eurodex.search.sqlite), with the same bounds:
facets of a search are counted over at most :data:`FACET_LIMIT` matches, relevance ranks at
most :data:`RANK_LIMIT` matches (beyond it, matches are ordered by trust score, and the
result says so). The whole register's facets (the home page) are one grouped pass over the
narrow ``entry_search`` rows.

Every word of the query goes through the same ``eurodex_fold`` as the indexed text (accents,
case and punctuation), and becomes a bound parameter: nothing the reader types is parsed as
tsquery syntax. A word ending in ``*`` matches as a prefix. Ranking is ``ts_rank`` with the
weights below, in the spirit of the FTS5 bm25 weights: a word in the name says far more about
an entry than the same word deep in its description.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session

from eurodex.search.query import (
    COUNTED,
    FACET_ORDER,
    SearchQuery,
    SearchResult,
    Term,
    ranked_order,
    sorted_counts,
)

#: ts_rank weights of the document's parts, in PostgreSQL's order {D, C, B, A}: the summary
#: and description, the tags, the institution, the name.
WEIGHTS = "{0.1, 0.3, 0.4, 1.0}"
#: Most matches a search counts facets over (beyond it, counts cover the first ones found).
FACET_LIMIT = 5_000
#: Most matches a search ranks by relevance (beyond it, matches are ordered by score).
RANK_LIMIT = 10_000



def tsquery(terms: list[Term], params: dict[str, object]) -> str:
    """The SQL of a tsquery requiring every term; adds one bound parameter per term."""
    parts = []
    for index, term in enumerate(terms):
        name = f"w{index}"
        params[name] = term.word
        if term.prefix:
            parts.append(f"to_tsquery('simple', quote_literal(eurodex_fold(:{name})) || ':*')")
        else:
            parts.append(f"plainto_tsquery('simple', eurodex_fold(:{name}))")
    return "(" + " && ".join(parts) + ")"


class PostgresSearch:
    """Full-text search and facets over ``entry_search``; APPROVED entries only."""

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        query = query.validated()
        where, params, matched = self._matches(query)
        if not query.with_facets:
            facets, counted = {}, None
        elif query.terms or query.filters:
            facets, counted = self._count(session, where, params, FACET_LIMIT)
        else:
            facets, _ = self._count(session, where, params, None)
            counted = None
        total = counted
        if counted is None or counted >= FACET_LIMIT:
            total = session.scalar(
                text(f"SELECT count(*) FROM entry_search AS f{where}"), params) or 0
            counted = (total if query.with_facets else 0) if counted is None else counted
        result = SearchResult(total=total, ids=[], facets=facets, counted=counted)
        if total == 0:
            return result
        sort = result.ranked_by = ranked_order(query, total, RANK_LIMIT)
        if sort == "relevance":
            order = f"ts_rank('{WEIGHTS}', f.document, {matched}) DESC, f.sort_name, f.entry_id"
        else:
            order = FACET_ORDER[sort]
        page = session.execute(
            text(f"SELECT f.entry_id FROM entry_search AS f{where} ORDER BY {order} "
                 "LIMIT :limit OFFSET :offset"),
            {**params, "limit": query.limit, "offset": query.offset},
        )
        result.ids = [row[0] for row in page]
        return result

    def _matches(self, query: SearchQuery) -> tuple[str, dict[str, object], str | None]:
        """WHERE of the matching rows (``entry_search AS f``), its parameters, and the
        tsquery's SQL (None without words), which ranking uses again."""
        params: dict[str, object] = {}
        conditions: list[str] = []
        expression = None
        if query.terms:
            expression = tsquery(query.terms, params)
            conditions.append(f"f.document @@ {expression}")
        for name, value in query.filters.items():
            if name == "topic":
                conditions.append("f.topics @> ARRAY[CAST(:topic AS text)]")
            else:
                conditions.append(f"f.{name} = :{name}")
            params[name] = value
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        return where, params, expression

    def _count(self, session: Session, where: str, params: dict[str, object],
               limit: int | None) -> tuple[dict, int]:
        """Facet counts over the matches (the first ``limit`` of them, when given).

        The matches are read once into a materialised CTE, then grouped per facet, topics
        unnested: a few dozen rows come back, whatever the number of matches.
        """
        columns = ", ".join(f"f.{name}" for name in (*COUNTED, "topics"))
        groups = " UNION ALL ".join(
            f"SELECT '{name}', {name}, count(*) FROM m GROUP BY {name}" for name in COUNTED
        )
        groups += " UNION ALL SELECT 'topic', t, count(*) FROM m, unnest(m.topics) AS t GROUP BY t"
        bounded = " LIMIT :facet_limit" if limit is not None else ""
        rows = session.execute(
            text(f"WITH m AS MATERIALIZED (SELECT {columns} FROM entry_search AS f{where}"
                 f"{bounded}) {groups}"),
            {**params, "facet_limit": limit},
        ).all()
        counters: dict[str, Counter] = {name: Counter() for name in (*COUNTED, "topic")}
        for facet, value, count in rows:
            counters[facet][value] += count
        counted = sum(counters["kind"].values())
        return {name: sorted_counts(counter) for name, counter in counters.items()}, counted
