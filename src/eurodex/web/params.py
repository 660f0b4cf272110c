"""The JSON API's filter parameters, described exactly as the search accepts them.

A filter is checked against its vocabulary whatever the case ("educ" finds EDUC); these
patterns say the same in the OpenAPI description, so that a client (or a contract test)
knows which values are valid before it sends one. An empty value means no filter.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import HTTPException, Query, Request

from eurodex.harvest.themes import EU_THEMES
from eurodex.model import InstitutionType, Kind, State
from eurodex.search import SORTS, TIERS


def given_once(request: Request) -> None:
    """A dependency refusing a parameter given twice (``country=FR&country=NL``): FastAPI
    would keep one of them and answer as if the other had never been asked for."""
    repeated = [name for name, n in Counter(k for k, _ in request.query_params.multi_items())
                .items() if n > 1]
    if repeated:
        raise HTTPException(status_code=422, detail="invalid request: "
                            + "; ".join(f"{name}: given more than once; give it once"
                                        for name in sorted(repeated)))


def any_case(values) -> str:
    """A pattern matching one of ``values`` in any letter case, or the empty string."""
    def letters(value: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in value)

    return "^(" + "|".join(letters(v) for v in values) + ")?$"


def _names(values) -> str:
    return ", ".join(values)


Country = Annotated[str | None, Query(
    pattern="^([A-Za-z]{2})?$", description="ISO 3166-1 alpha-2 code, or EU")]
KindFilter = Annotated[str | None, Query(
    pattern=any_case(k.value for k in Kind), description=_names(k.value for k in Kind))]
Topic = Annotated[str | None, Query(
    pattern=any_case(EU_THEMES),
    description="an EU data theme code: " + _names(EU_THEMES))]
InstitutionTypeFilter = Annotated[str | None, Query(
    pattern=any_case(t.value for t in InstitutionType),
    description=_names(t.value for t in InstitutionType))]
Tier = Annotated[str | None, Query(pattern=any_case(TIERS), description=_names(TIERS))]
StateFilter = Annotated[str | None, Query(
    pattern=any_case(s.value for s in State), description=_names(s.value for s in State))]
Sort = Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$",
                            description=_names(SORTS))]

#: How deep /entries may be paged: the same bound as /entries/search (search_api.MAX_OFFSET).
#: Deep pages cost the database more than they help anyone, and an unbounded integer would
#: reach the database driver, which cannot hold it (a 500 instead of a 422).
MAX_OFFSET = 10_000
#: Raw checks are kept 90 days: a probe every 15 minutes on a handful of URLs, plus the full
#: verifications, stays far below this, so every kept check can still be reached.
MAX_CHECK_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=500, description="how many to return, at most")]
EntryOffset = Annotated[int, Query(
    ge=0, le=MAX_OFFSET, description=f"how many to skip, at most {MAX_OFFSET}")]
CheckOffset = Annotated[int, Query(
    ge=0, le=MAX_CHECK_OFFSET, description=f"how many to skip, at most {MAX_CHECK_OFFSET}")]
