"""Search on SQLite: FTS5 finds and ranks, a narrow facet table counts and orders.

Cost per request is bounded, whatever the size of the register, by two limits:

- the facets of the whole register (no words, no filters: the home page) are read from
  ``facet_totals``, which triggers keep exact; any other search counts its facets over at
  most :data:`FACET_LIMIT` matches, in one grouped pass, and says when it stopped there;
- relevance ranking (bm25) runs over at most :data:`RANK_LIMIT` matches; a search matching
  more (a word nearly every entry holds, like "api") is ordered by trust score instead, and
  says so;
- a page ordered by score is read tier by tier, best first: tiers are bands of the composite
  score and their tokens are in the index, so the first page of a word most entries hold
  sorts the few matches of the best tier, not all of them.

The joins are written ``CROSS JOIN`` so that SQLite walks the FTS matches and looks each up
in the facet table, never the other way round (which probes FTS once per facet row).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session

from eurodex.search.query import (
    COUNTED,
    FACET_ORDER,
    TIERS,
    SearchQuery,
    SearchResult,
    Term,
    ranked_order,
    sorted_counts,
)
from eurodex.search.sqlite_index import TOPIC_BITS, facet_token

# bm25 weights of entry_fts's columns: name, text (summary + description), institution, tags,
# facet tokens. A word in the name says far more about an entry than the same word deep in its
# description; facet tokens only filter.
WEIGHTS = (10.0, 1.0, 4.0, 3.0, 0.0)
_WORD_COLUMNS = "{name body institution tags}"
#: Most matches a search counts facets over (beyond it, counts cover the first ones by id).
FACET_LIMIT = 5_000
#: Most matches a search ranks by relevance (beyond it, matches are ordered by score).
RANK_LIMIT = 10_000

_RANK = "bm25(entry_fts, " + ", ".join(str(w) for w in WEIGHTS) + ")"


def match_expression(terms: list[Term], filters: dict[str, str] | None = None) -> str:
    """An FTS5 query: all the terms, each quoted so that no word acts as syntax, in the word
    columns; and, when given, every filter's token in the ``facets`` column."""
    quoted = []
    for term in terms:
        phrase = '"' + term.word.replace('"', '""') + '"'
        quoted.append(phrase + ("*" if term.prefix else ""))
    expression = f"{_WORD_COLUMNS} : ({' '.join(quoted)})"
    if filters:
        tokens = " ".join(f'"{facet_token(name, value)}"' for name, value in filters.items())
        expression += f" AND facets : ({tokens})"
    return expression


class SqliteSearch:
    """Full-text search and facets over the FTS5 index; APPROVED entries only."""

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        query = query.validated()
        source, where, params = self._matches(query)
        if not query.with_facets:
            facets, counted = {}, None
        elif query.terms or query.filters:
            facets, counted = self._count_matches(session, source, where, params)
        else:
            facets, counted = self._count_register(session), None
        total = counted
        if counted is None or counted >= FACET_LIMIT:
            # FTS holds approved entries and their filters' tokens: words need no join to count.
            counting = "entry_fts WHERE entry_fts MATCH :match" if query.terms else source + where
            total = session.scalar(text(f"SELECT count(*) FROM {counting}"), params) or 0
            counted = (total if query.with_facets else 0) if counted is None else counted
        result = SearchResult(total=total, ids=[], facets=facets, counted=counted)
        if total == 0:
            return result
        sort = result.ranked_by = ranked_order(query, total, RANK_LIMIT)
        if sort == "score" and query.terms and "tier" not in query.filters:
            result.ids = self._page_by_tier(session, query, source, where, params)
            return result
        if sort == "relevance":
            columns, order = f"f.entry_id, {_RANK} AS rank", "rank, f.sort_name, f.entry_id"
        else:
            columns, order = "f.entry_id", FACET_ORDER[sort]
        page = session.execute(
            text(f"SELECT {columns} FROM {source}{where} ORDER BY {order} "
                 "LIMIT :limit OFFSET :offset"),
            {**params, "limit": query.limit, "offset": query.offset},
        )
        result.ids = [row[0] for row in page]
        return result

    def _page_by_tier(self, session: Session, query: SearchQuery, source: str, where: str,
                      params: dict[str, object]) -> list[int]:
        """One page of matches ordered by score, taken from each tier in turn, then from the
        unscored entries; the same page as sorting all matches, at a fraction of the cost
        when they are many (the first page of "api" reads one tier's matches, not 90,000)."""
        tokens = [f'"{facet_token("tier", tier)}"' for tier in TIERS]
        bands = [f"facets : {token}" for token in tokens]
        base = f"({params['match']})"
        expressions = [f"{base} AND {band}" for band in bands]
        expressions.append(f"{base} NOT facets : ({' OR '.join(tokens)})")
        skip, wanted, ids = query.offset, query.limit, []
        for expression in expressions:
            band = {**params, "match": expression}
            if skip:
                n = session.scalar(text("SELECT count(*) FROM entry_fts WHERE entry_fts MATCH "
                                        ":match"), band) or 0
                if n <= skip:
                    skip -= n
                    continue
            page = session.execute(
                text(f"SELECT f.entry_id FROM {source}{where} ORDER BY {FACET_ORDER['score']} "
                     "LIMIT :limit OFFSET :offset"),
                {**band, "limit": wanted, "offset": skip},
            )
            ids += [row[0] for row in page]
            wanted, skip = query.limit - len(ids), 0
            if wanted <= 0:
                break
        return ids

    def _matches(self, query: SearchQuery) -> tuple[str, str, dict[str, object]]:
        """FROM and WHERE of the matching rows (facet rows as ``f``), and their parameters."""
        params: dict[str, object] = {}
        conditions: list[str] = []
        if query.terms:
            source = "entry_fts CROSS JOIN entry_facets AS f ON f.entry_id = entry_fts.rowid"
            conditions.append("entry_fts MATCH :match")
            params["match"] = match_expression(query.terms, query.filters)
        else:
            source = "entry_facets AS f"
        for name, value in query.filters.items():
            if name == "topic":
                conditions.append("(f.topics & :topic_bit) != 0")
                params["topic_bit"] = 1 << TOPIC_BITS.index(value)
            else:
                conditions.append(f"f.{name} = :{name}")
                params[name] = value
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        return source, where, params

    def _count_matches(self, session: Session, source: str, where: str,
                       params: dict[str, object]) -> tuple[dict, int]:
        """Facet counts over the first :data:`FACET_LIMIT` matches.

        The matches are read once into a materialised CTE, then grouped per facet: a few dozen
        rows come back, whatever the number of combinations of values among the matches.
        """
        columns = ", ".join(f"f.{name}" for name in (*COUNTED, "topics"))
        groups = " UNION ALL ".join(
            f"SELECT '{name}', {name}, count(*) FROM m GROUP BY {name}"
            for name in (*COUNTED, "topics")
        )
        rows = session.execute(
            text(f"WITH m AS MATERIALIZED (SELECT {columns} FROM {source}{where} "
                 f"LIMIT :facet_limit) {groups}"),
            {**params, "facet_limit": FACET_LIMIT},
        ).all()
        counters: dict[str, Counter] = {name: Counter() for name in (*COUNTED, "topic")}
        for facet, value, count in rows:
            if facet != "topics":
                counters[facet][value] += count
                continue
            for bit, code in enumerate(TOPIC_BITS):
                if value >> bit & 1:
                    counters["topic"][code] += count
        counted = sum(counters["kind"].values())
        return {name: sorted_counts(counter) for name, counter in counters.items()}, counted

    def _count_register(self, session: Session) -> dict:
        """The whole register's facet counts, kept by triggers in ``facet_totals``."""
        counters: dict[str, Counter] = {name: Counter() for name in (*COUNTED, "topic")}
        for facet, value, n in session.execute(text("SELECT facet, value, n FROM facet_totals")):
            counters[facet][value] = n
        return {name: sorted_counts(counter) for name, counter in counters.items()}
