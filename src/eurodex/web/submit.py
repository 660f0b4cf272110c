"""Public submissions: the form at ``/submit`` and ``POST /api/v1/submissions`` (JSON).

Both share one per-client limit (5 an hour by default, keyed by the connecting address: a
proxy in front must pass the real one to uvicorn, e.g. with ``--proxy-headers``); past it they
answer 429 with Retry-After. The limit bounds the fetches a client can cause, so only
submissions that pass validation and are processed count: a typo answered with a 422 costs
nothing. A submission is processed in the request, within a bounded time (see
``submissions.process``).
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
    refuse_literal_address,
    submit,
    validate,
)
from eurodex.submissions.ratelimit import RateLimiter
from eurodex.web.forms import CSRF_COOKIE, anonymous_csrf, check_csrf, read_form, set_cookie
from eurodex.web.openapi_doc import ErrorOut

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


class TooMany(Exception):
    """The client has used its hourly quota; ``wait`` is the seconds until a slot frees."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"try again in {wait} s")
        self.wait = wait


async def _submit(request: Request, name: str, url: str, country: str) -> SubmissionResult:
    """Validate, then count against the quota, then process: refusals before a fetch are free.

    The quota is taken only once the submission is valid and the register can process it
    (its curation file reads), so what it limits is the fetches a client can cause.
    """
    form = validate(name, url, country)
    settings = request.app.state.settings
    refuse_literal_address(form.url, settings)
    try:
        curation = curation_at(settings.curation_file)
    except CurationError as exc:  # the operator's file is broken: never guess without it
        log.error("submissions refused: %s", exc)
        raise SubmissionRefused("the register cannot take submissions right now; "
                                "its operator has been told") from exc
    if wait := limiter(request).hit(_client(request)):
        raise TooMany(wait)
    return await submit(request.app.state.store, settings, form, curation)


class SubmissionIn(BaseModel):
    """A proposed API. Every rule is checked before anything is fetched; a value that breaks
    one is answered with a 422 naming the field, and does not count against the quota."""

    # The rules are told in words, not as schema limits: the values are trimmed before they
    # are measured, so a maxLength would refuse less than it says, and pydantic enforcing
    # one would answer the generic "must be a JSON object" instead of the field's problem.
    name: str = Field(description="What the API or dataset is called: 2 to 200 characters "
                                  "once whitespace is trimmed, no control characters")
    url: str = Field(description="Its homepage, documentation page or OpenAPI document: an "
                                 "http(s) URL of at most 2000 characters with a valid host "
                                 "and port, no credentials, no spaces")
    country: str = Field(description="ISO 3166-1 alpha-2 code, or EU (in any case)")


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


# The body is read by hand (for the 413 and 415 answers and the register's own 422 wording),
# so FastAPI cannot see it: the description is given here.
_REQUEST_BODY = {
    "required": True,
    "content": {"application/json": {"schema": SubmissionIn.model_json_schema()}},
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds until the client may submit again",
                                "schema": {"type": "integer"}}}


@router.post("/api/v1/submissions", tags=["submissions"], status_code=201,
             response_model=SubmissionOut,
             openapi_extra={"requestBody": _REQUEST_BODY},
             responses={
                 413: {"model": ErrorOut,
                       "description": f"the body is longer than {MAX_JSON_BYTES} bytes"},
                 415: {"model": ErrorOut, "description": "the body is not application/json"},
                 422: {"model": ErrorOut, "description": "refused, with the reason"},
                 429: {"model": ErrorOut, "headers": _RETRY_AFTER,
                       "description": "this client has used its 5 submissions of the hour"},
             })
async def post_submission(request: Request):
    """Propose an API: it is fetched, proven and admitted like any harvested candidate.

    Only a valid submission counts against the client's quota (5 an hour).
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _error(415, "send the submission as application/json")
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        return _error(413, f"a submission may not exceed {MAX_JSON_BYTES} bytes")
    try:
        data = SubmissionIn.model_validate(json.loads(body))
    # Malformed JSON or fields missing (pydantic's error is a ValueError), or JSON nested
    # deeper than the parser's recursion limit, which 16 KiB of brackets reaches.
    except (ValueError, RecursionError):
        return _error(422, "the body must be a JSON object with name, url and country")
    try:
        result = await _submit(request, data.name, data.url, data.country)
    except SubmissionRefused as exc:
        return _error(422, str(exc))
    except TooMany as exc:
        return _error(429, f"too many submissions: {exc}", {"Retry-After": str(exc.wait)})
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
    try:
        result = await _submit(request, values["name"], values["url"], values["country"])
    except SubmissionRefused as exc:
        return _form_page(request, 422, values=values, error=f"Refused: {exc}")
    except TooMany as exc:
        response = _form_page(request, 429, values=values,
                              error=f"Too many submissions from your address: {exc}.")
        response.headers["Retry-After"] = str(exc.wait)
        return response
    return _form_page(request, 201, result=result, entry_url=_entry_url(request, result))
