"""The JSON search: /api/v1/entries/search, words and facets, ranked and paged.

Its router is included before the entry routes, so that ``search`` is never read as a slug.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from eurodex.search import InvalidQuery, SearchQuery, SearchResult, search
from eurodex.store import browse
from eurodex.web.api import EntrySummary, _summary
from eurodex.web.facets import facet_label
from eurodex.web.params import (
    Country,
    InstitutionTypeFilter,
    KindFilter,
    Sort,
    StateFilter,
    Tier,
    Topic,
    given_once,
)

router = APIRouter(prefix="/api/v1", tags=["entries"], dependencies=[Depends(given_once)])

#: Deep pages cost the database more than they help anyone: narrow the search instead.
MAX_OFFSET = 10_000


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int


class SearchPage(BaseModel):
    q: str
    filters: dict[str, str]
    sort: str
    ranked_by: str = Field(description="the order used: relevance, score, checked or name")
    total: int
    limit: int
    offset: int
    facets_counted: int = Field(description="how many matches the facet counts cover")
    facets_complete: bool
    facets: dict[str, list[FacetValueOut]]
    entries: list[EntrySummary]


def run_search(request: Request, query: SearchQuery) -> tuple[SearchResult, list[EntrySummary]]:
    """The search and its page of entries as the API shows them; 422 for a bad parameter."""
    try:
        with request.app.state.store.session() as session:
            result = search(session, query)
            listed = browse.listed_entries(session, result.ids)
            entries = [EntrySummary(**_summary(request, item.entry, item.score))
                       for item in listed]
    except InvalidQuery as exc:
        raise HTTPException(status_code=422, detail=f"invalid request: {exc}") from exc
    return result, entries


@router.get("/entries/search", response_model=SearchPage)
def search_entries(
    request: Request,
    q: str = Query("", max_length=300, description="words to find, all of them; end a word "
                   "with * to match its beginning"),
    country: Country = None,
    kind: KindFilter = None,
    topic: Topic = None,
    institution_type: InstitutionTypeFilter = None,
    tier: Tier = None,
    state: StateFilter = None,
    sort: Sort = "relevance",
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> SearchPage:
    """Approved entries matching the words and filters, with facet counts over the matches.

    Matching ignores case and accents ("donnees" finds "Données"); results are ranked by
    relevance, the name weighing most. Facets count the matches (the first 5,000 when there
    are more: see ``facets_counted``).
    """
    query = SearchQuery(text=q, country=country, kind=kind, topic=topic,
                        institution_type=institution_type, tier=tier, state=state, sort=sort,
                        limit=limit, offset=offset)
    result, entries = run_search(request, query)
    filters = query.validated().filters
    return SearchPage(
        q=q, filters=filters, sort=sort, ranked_by=result.ranked_by, total=result.total,
        limit=limit, offset=offset, facets_counted=result.counted,
        facets_complete=result.facets_complete,
        facets={name: [FacetValueOut(value=c.value, label=facet_label(name, c.value),
                                     count=c.count) for c in counts]
                for name, counts in result.facets.items()},
        entries=entries,
    )
