"""What a search asks for and what it answers, whatever database answers it.

A query is checked before any database sees it: a filter value outside its vocabulary is an
:class:`InvalidQuery` naming the parameter and the accepted values, never an empty result
that looks like an answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from eurodex.harvest.themes import EU_THEMES
from eurodex.model import InstitutionType, Kind, State

#: The facets, in the order pages show them.
FACETS = ("country", "kind", "institution_type", "topic", "tier", "state")
#: Ways to order results. ``relevance`` orders by name when there is no text to rank by.
SORTS = ("relevance", "score", "checked")
TIERS = ("excellent", "good", "fair", "poor")
MAX_TERMS = 12
MAX_TEXT = 300
MAX_LIMIT = 500
#: The facets counted column by column in the facet table (topics are a bit mask there).
COUNTED = ("country", "kind", "institution_type", "tier", "state")
#: ORDER BY of each non-relevance sort over the facet table (as ``f``): ties by folded name
#: (model.sort_key), then id, so that pages never overlap.
FACET_ORDER = {
    "score": "f.composite DESC NULLS LAST, f.sort_name, f.entry_id",
    "checked": "f.checked_at DESC NULLS LAST, f.sort_name, f.entry_id",
    "name": "f.sort_name, f.entry_id",
}

_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in Kind),
    "institution_type": tuple(t.value for t in InstitutionType),
    "topic": tuple(EU_THEMES),
    "tier": TIERS,
    "state": tuple(s.value for s in State),
}
# Letters and digits, as the indexes split words (an underscore separates, like a hyphen).
_WORD = re.compile(r"[^\W_]+\*?")
_COUNTRY = re.compile(r"[A-Z]{2}")


class InvalidQuery(ValueError):
    """A search parameter is outside what the register can filter or sort by."""


@dataclass(frozen=True)
class Term:
    """One word of the search text; ``prefix`` when the reader ended it with ``*``."""

    word: str
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    country: str | None = None
    kind: str | None = None
    institution_type: str | None = None
    topic: str | None = None
    tier: str | None = None
    state: str | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    with_facets: bool = True

    @property
    def terms(self) -> list[Term]:
        """The words of ``text``: punctuation and search syntax are dropped, never obeyed."""
        # NFKC: a decomposed "contrôle" or a fullwidth "ＣＶＥＣ" is the word the index holds.
        words = _WORD.findall(unicodedata.normalize("NFKC", self.text[:MAX_TEXT]))[:MAX_TERMS]
        return [Term(w.rstrip("*"), w.endswith("*")) for w in words if w.rstrip("*")]

    @property
    def filters(self) -> dict[str, str]:
        """The facet filters that are set, by facet name."""
        values = {name: getattr(self, name) for name in FACETS}
        return {name: value for name, value in values.items() if value}

    def validated(self) -> SearchQuery:
        """This query with its values in canonical case; raises :class:`InvalidQuery`."""
        changes: dict[str, object] = {}
        for name, value in self.filters.items():
            canonical = value.strip().lower() if name == "tier" else value.strip().upper()
            if name == "country":
                if not _COUNTRY.fullmatch(canonical):
                    raise InvalidQuery(f"country: {value!r} is not a two-letter country code")
            elif canonical not in _VOCABULARIES[name]:
                accepted = ", ".join(_VOCABULARIES[name])
                raise InvalidQuery(f"{name}: {value!r} is not one of {accepted}")
            changes[name] = canonical
        if self.sort not in SORTS:
            raise InvalidQuery(f"sort: {self.sort!r} is not one of {', '.join(SORTS)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit: {self.limit} is not between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidQuery(f"offset: {self.offset} is negative")
        return replace(self, **changes)


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass
class SearchResult:
    """One page of matching entry ids, in order, and facet counts over the matches.

    ``counted`` is how many matches the facet counts cover: all of them (``total``) unless
    the implementation bounds its work; ``ranked_by`` is the order actually used, which may
    differ from the one asked for (relevance without words orders by name).
    """

    total: int
    ids: list[int]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    counted: int = 0
    ranked_by: str = "relevance"

    @property
    def facets_complete(self) -> bool:
        return self.counted >= self.total


def ranked_order(query: SearchQuery, total: int, rank_limit: int) -> str:
    """The order an indexed search uses: the one asked for, except that relevance without
    words is by name, and relevance over more than ``rank_limit`` matches is by score (ranking
    them all would cost more than the page is worth)."""
    if query.sort != "relevance":
        return query.sort
    if not query.terms:
        return "name"
    return "score" if total > rank_limit else "relevance"


def sorted_counts(counts: dict[str | None, int]) -> list[FacetCount]:
    """Most frequent first, then by value; values that are not set are not a facet."""
    items = [(v, n) for v, n in counts.items() if v is not None and n > 0]
    return [FacetCount(v, n) for v, n in sorted(items, key=lambda item: (-item[1], item[0]))]
