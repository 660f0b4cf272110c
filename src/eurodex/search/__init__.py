"""Search over the register: words, facets, sorting and paging, behind one small interface.

``search(session, query)`` picks the implementation for the session's database: SQLite's FTS5
index (ranked, accent- and case-insensitive), or plain SQL elsewhere until cluster mode brings
PostgreSQL full text. Either way only APPROVED entries are found and counted.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from eurodex.search.portable import PortableSearch
from eurodex.search.query import (
    FACETS,
    MAX_LIMIT,
    SORTS,
    TIERS,
    FacetCount,
    InvalidQuery,
    SearchQuery,
    SearchResult,
)
from eurodex.search.sqlite import SqliteSearch

__all__ = [
    "FACETS",
    "MAX_LIMIT",
    "SORTS",
    "TIERS",
    "FacetCount",
    "InvalidQuery",
    "PortableSearch",
    "SearchQuery",
    "SearchResult",
    "Searcher",
    "SqliteSearch",
    "search",
    "searcher_for",
]


class Searcher(Protocol):
    def search(self, session: Session, query: SearchQuery) -> SearchResult: ...


def searcher_for(dialect: str) -> Searcher:
    """The implementation for a database dialect name (``sqlite``, ``postgresql``, ...)."""
    return SqliteSearch() if dialect == "sqlite" else PortableSearch()


def search(session: Session, query: SearchQuery) -> SearchResult:
    """One page of approved entries matching ``query``, with facet counts over all matches.

    Raises :class:`InvalidQuery` when a parameter is outside what can be searched.
    """
    return searcher_for(session.get_bind().dialect.name).search(session, query)
