"""Public submissions: the form at ``/submit`` and ``POST /api/v1/submissions`` (JSON).

Both share one per-client limit (5 an hour by default, keyed by the connecting address: a
proxy in front must pass the real one to uvicorn, e.g. with ``--proxy-headers``); past it they
answer 429 with Retry-After. A submission is processed in the request, within a bounded time
(see ``submissions.process``).
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from eurodex.proof.curation import CurationError, curation_at
from eurodex.submissions.process import (
    SubmissionRefused,
    SubmissionResult,
    submit,
    validate,
)
from eurodex.submissions.ratelimit import RateLimiter
from eurodex.web.forms import CSRF_COOKIE, anonymous_csrf, check_csrf, read_form, set_cookie

log = logging.getLogger("eurodex.web")
router = APIRouter()
MAX_JSON_BYTES = 16 * 1024


def limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "submission_limiter", None) is None:
        state.submission_limiter = RateLimiter()
    return state.submission_limiter


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(request: Request) -> int | None:
    return limiter(request).hit(_client(request))


async def _submit(request: Request, form) -> SubmissionResult:
    settings = request.app.state.settings
    try:
        curation = curation_at(settings.curation_file)
    except CurationError as exc:  # the operator's file is broken: never guess without it
        log.error("submissions refused: %s", exc)
        raise SubmissionRefused("the register cannot take submissions right now; "
                                "its operator has been told") from exc
    return await submit(request.app.state.store, settings, form, curation)


class SubmissionIn(BaseModel):
    name: str = Field(description="What the API or dataset is called")
    url: str = Field(description="Its homepage, documentation page or OpenAPI document")
    country: str = Field(description="ISO 3166-1 alpha-2 code, or EU")


class SubmissionOut(BaseModel):
    ok: bool = True
    slug: str
    status: str
    status_reason: str
    officialness: int | None
    spec_url: str | None
    docs_url: str | None
    institution: str | None
    url: str | None = Field(description="The entry's page; none while it is rejected")


def _entry_url(request: Request, result: SubmissionResult) -> str | None:
    if result.status == "REJECTED":
        return None
    return str(request.url_for("entry_page", slug=result.slug))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status,
                        headers=headers)


@router.post("/api/v1/submissions", tags=["submissions"], status_code=201,
             response_model=SubmissionOut,
             responses={422: {"description": "refused, with the reason"},
                        429: {"description": "too many submissions from this client"}})
async def post_submission(request: Request):
    """Propose an API: it is fetched, proven and admitted like any harvested candidate."""
    if wait := _too_many(request):
        return _error(429, f"too many submissions: try again in {wait} s",
                      {"Retry-After": str(wait)})
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _error(415, "send the submission as application/json")
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        return _error(413, f"a submission may not exceed {MAX_JSON_BYTES} bytes")
    try:
        data = SubmissionIn.model_validate(json.loads(body))
    except ValueError:  # malformed JSON, or fields missing (pydantic's error is a ValueError)
        return _error(422, "the body must be a JSON object with name, url and country")
    try:
        form = validate(data.name, data.url, data.country)
        result = await _submit(request, form)
    except SubmissionRefused as exc:
        return _error(422, str(exc))
    out = SubmissionOut(url=_entry_url(request, result), **result.__dict__)
    return JSONResponse(out.model_dump(), status_code=201)


def _form_page(request: Request, status: int = 200, **context) -> Response:
    token, new = anonymous_csrf(request)
    context.setdefault("values", {})
    response = request.app.state.templates.TemplateResponse(
        request, "submit.html", {"csrf_token": token, **context}, status_code=status)
    if new:
        set_cookie(response, CSRF_COOKIE, token)
    return response


@router.get("/submit", response_class=HTMLResponse, include_in_schema=False,
            name="submit_page")
async def submit_page(request: Request):
    return _form_page(request)


@router.post("/submit", response_class=HTMLResponse, include_in_schema=False,
             name="submit_form")
async def submit_form(request: Request):
    form = await read_form(request)
    check_csrf(request.cookies.get(CSRF_COOKIE), form)
    values = {k: form.get(k, "") for k in ("name", "url", "country")}
    if wait := _too_many(request):
        response = _form_page(request, 429, values=values,
                              error=f"Too many submissions from your address: try again in "
                                    f"{wait} s.")
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        result = await _submit(request, validate(values["name"], values["url"],
                                                 values["country"]))
    except SubmissionRefused as exc:
        return _form_page(request, 422, values=values, error=f"Refused: {exc}")
    return _form_page(request, 201, result=result, entry_url=_entry_url(request, result))
