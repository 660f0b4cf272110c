"""Facets as people read them: titles, value labels, and links that narrow or widen a search.

Every facet value is a plain link to the same search with that filter added (or removed), so
browsing works without JavaScript and each state of the page has its own address.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from eurodex.harvest.themes import EU_THEMES
from eurodex.search import FACETS, FacetCount, SearchQuery
from eurodex.web.views import COUNTRY_NAMES

FACET_TITLES = {
    "country": "Country",
    "kind": "Kind",
    "institution_type": "Institution type",
    "topic": "Topic",
    "tier": "Trust tier",
    "state": "Verification state",
}
SORT_LABELS = {"relevance": "Relevance", "score": "Trust score", "checked": "Recently checked"}
_LABELS: dict[str, dict[str, str]] = {
    "country": COUNTRY_NAMES,
    "kind": {"API": "API", "DATASET": "Dataset"},
    "institution_type": {
        "GOVERNMENT": "Government", "AGENCY": "Agency", "REGION": "Region",
        "MUNICIPALITY": "Municipality", "EU_INSTITUTION": "EU institution",
        "OTHER_PUBLIC": "Other public body",
    },
    "topic": EU_THEMES,
    "tier": {"excellent": "Excellent", "good": "Good", "fair": "Fair", "poor": "Poor"},
    "state": {"VERIFIED": "Verified", "STALE": "Stale", "FAILING": "Failing",
              "UNVERIFIED": "Unverified"},
}


def facet_label(facet: str, value: str) -> str:
    return _LABELS.get(facet, {}).get(value, value)


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    href: str
    selected: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    title: str
    links: list[FacetLink]
    selected: FacetLink | None


def search_params(query: SearchQuery, **changes: str | None) -> dict[str, str]:
    """The query string of ``query`` with ``changes`` applied; paging starts again."""
    params: dict[str, str | None] = {"q": query.text or None, **query.filters}
    if query.sort != "relevance":
        params["sort"] = query.sort
    params.update(changes)
    return {k: v for k, v in params.items() if v}


def search_href(base: str, query: SearchQuery, **changes: str | None) -> str:
    params = search_params(query, **changes)
    return f"{base}?{urlencode(params)}" if params else base


def facet_groups(base: str, query: SearchQuery,
                 facets: dict[str, list[FacetCount]]) -> list[FacetGroup]:
    """Each facet with its values as links; a selected value links to its removal."""
    groups = []
    for name in FACETS:
        chosen = query.filters.get(name)
        links = [
            FacetLink(
                value=c.value, label=facet_label(name, c.value), count=c.count,
                href=search_href(base, query, **{name: None if c.value == chosen else c.value}),
                selected=c.value == chosen,
            )
            for c in facets.get(name, [])
        ]
        selected = next((link for link in links if link.selected), None)
        if chosen and selected is None:  # a filter no match has: still removable
            selected = FacetLink(chosen, facet_label(name, chosen), 0,
                                 search_href(base, query, **{name: None}), True)
        if links or selected:
            groups.append(FacetGroup(name, FACET_TITLES[name], links, selected))
    return groups
