"""Search over the register: words, facets, sorting and paging, behind one small interface.

``search(session, query)`` picks the implementation for the session's database: SQLite's FTS5
index or PostgreSQL's tsvector index (both ranked, accent- and case-insensitive, with the same
facets and bounds), or plain SQL on any other database. Only APPROVED entries are found and
counted.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from eurodex.search.portable import PortableSearch
from eurodex.search.postgres import PostgresSearch
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
    "PostgresSearch",
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
    if dialect == "sqlite":
        return SqliteSearch()
    if dialect == "postgresql":
        return PostgresSearch()
    return PortableSearch()


def search(session: Session, query: SearchQuery) -> SearchResult:
    """One page of approved entries matching ``query``, with facet counts over all matches.

    Raises :class:`InvalidQuery` when a parameter is outside what can be searched.
    """
    return searcher_for(session.get_bind().dialect.name).search(session, query)
