"""The home page: one search box, facets with counts, sorting and paging, no JavaScript.

The page is a GET form and links: every search, filter, order and page has its own address,
works with the keyboard alone, and can be bookmarked or shared.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from eurodex.search import InvalidQuery, SearchQuery, search
from eurodex.search.sqlite import RANK_LIMIT
from eurodex.store import browse
from eurodex.store import repository as repo
from eurodex.web.facets import SORT_LABELS, facet_groups, facet_label, search_href, search_params
from eurodex.web.params import given_once
from eurodex.web.search_api import MAX_OFFSET

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
MAX_PAGE = MAX_OFFSET // PER_PAGE + 1


@router.get("/", response_class=HTMLResponse, name="home_page",
            dependencies=[Depends(given_once)])
def home(
    request: Request,
    q: str = Query("", max_length=300),
    country: str | None = None,
    kind: str | None = None,
    topic: str | None = None,
    institution_type: str | None = None,
    tier: str | None = None,
    state: str | None = None,
    sort: str = "relevance",
    page: int = Query(1, ge=1, le=MAX_PAGE),
):
    query = SearchQuery(text=q.strip(), country=country or None, kind=kind or None,
                        topic=topic or None, institution_type=institution_type or None,
                        tier=tier or None, state=state or None, sort=sort or "relevance",
                        limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    try:
        query = query.validated()
    except InvalidQuery as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    base = request.app.url_path_for("home_page")
    api_params = {**search_params(query), "limit": PER_PAGE, "offset": query.offset}
    api_href = f"{request.app.url_path_for('search_entries')}?{urlencode(api_params)}"
    with request.app.state.store.session() as session:
        result = search(session, query)
        listed = browse.listed_entries(session, result.ids)
        entries, institutions, countries = browse.register_counts(session)
        pages = max(1, min(-(-result.total // PER_PAGE), MAX_PAGE))
        return request.app.state.templates.TemplateResponse(request, "index.html", {
            "query": query, "result": result, "listed": listed, "page": page, "pages": pages,
            "register": {"entries": entries, "institutions": institutions,
                         "countries": countries},
            "groups": facet_groups(base, query, result.facets),
            "sorts": SORT_LABELS, "rank_limit": RANK_LIMIT, "now": repo.now_utc(),
            "page_href": lambda n: search_href(base, query, page=str(n) if n > 1 else None),
            "clear_href": base, "facet_label": facet_label,
            "current_state": repo.current_state, "per_page": PER_PAGE, "api_href": api_href,
        })
