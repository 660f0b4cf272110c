"""The review queue at ``/review``: curators approve or reject quarantined entries.

A curator is recognised by ``Authorization: Bearer <token>`` or by the session cookie the
login form sets; anyone else gets 401 (with the login form, for a browser). Every form
carries a CSRF token (see ``web.forms``); decisions go to the audit log.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from eurodex.review import curators
from eurodex.review.decisions import (
    DecisionError,
    decide,
    recent_decisions,
    review_queue,
)
from eurodex.store import repository as repo
from eurodex.web.forms import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    anonymous_csrf,
    check_csrf,
    read_form,
    set_cookie,
)

log = logging.getLogger("eurodex.web")

router = APIRouter(include_in_schema=False)
UNAUTHORISED = "curators only: send Authorization: Bearer <token>, or sign in at /review/login"


def _who(request: Request) -> curators.Authenticated | None:
    """The curator behind this request, by bearer token or session cookie (runs a query)."""
    store = request.app.state.store
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    with store.session() as session:
        if scheme.lower() == "bearer" and token.strip():
            return curators.authenticate_token(session, token)
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            return curators.authenticate_session(session, secret, repo.now_utc())
    return None


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _login_page(request: Request, status: int, message: str | None = None) -> Response:
    token, new = anonymous_csrf(request)
    response = request.app.state.templates.TemplateResponse(
        request, "review_login.html", {"csrf_token": token, "message": message},
        status_code=status,
    )
    if new:
        set_cookie(response, CSRF_COOKIE, token)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="eurodex review"'
    return response


def _unauthorised(request: Request) -> Response:
    if _wants_html(request):
        return _login_page(request, 401, "Sign in with your curator token to review entries.")
    return JSONResponse({"ok": False, "error": UNAUTHORISED, "status": 401}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="eurodex review"'})


def _queue(request: Request) -> dict:
    with request.app.state.store.session() as session:
        rows = []
        for entry in review_queue(session):
            proofs = repo.proofs_for(session, entry.id)
            rows.append({"entry": entry, "proofs": proofs,
                         "officialness": min(100, sum(p.points for p in proofs))})
        return {"rows": rows, "decisions": list(recent_decisions(session))}


@router.get("/review", response_class=HTMLResponse, name="review_page")
async def review_page(request: Request, done: str | None = None):
    who = await run_in_threadpool(_who, request)
    if who is None:
        return _unauthorised(request)
    context = await run_in_threadpool(_queue, request)
    context.update(curator=who.name, csrf_token=who.csrf_token or "", done=done,
                   via=who.via)
    return request.app.state.templates.TemplateResponse(request, "review.html", context)


@router.get("/review/login", response_class=HTMLResponse, name="review_login_page")
async def review_login_page(request: Request):
    return _login_page(request, 200)


@router.post("/review/login", name="review_login")
async def review_login(request: Request):
    form = await read_form(request)
    check_csrf(request.cookies.get(CSRF_COOKIE), form)

    def sign_in() -> str | None:
        with request.app.state.store.session() as session:
            who = curators.authenticate_token(session, form.get("token", ""))
            return None if who is None else curators.open_session(session, who, repo.now_utc())

    secret = await run_in_threadpool(sign_in)
    if secret is None:
        return _login_page(request, 401, "That token is not valid.")
    response = RedirectResponse(request.app.url_path_for("review_page"), status_code=303)
    set_cookie(response, SESSION_COOKIE, secret,
               max_age=int(curators.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/review/logout", name="review_logout")
async def review_logout(request: Request):
    who = await run_in_threadpool(_who, request)
    if who is None:
        return _unauthorised(request)
    form = await read_form(request)
    check_csrf(who.csrf_token, form)

    def sign_out() -> None:
        with request.app.state.store.session() as session:
            curators.close_session(session, request.cookies.get(SESSION_COOKIE, ""))

    await run_in_threadpool(sign_out)
    response = RedirectResponse(request.app.url_path_for("review_login_page"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")
    return response


@router.post("/review/{slug}", name="review_decide")
async def review_decide(request: Request, slug: str):
    who = await run_in_threadpool(_who, request)
    if who is None:
        return _unauthorised(request)
    form = await read_form(request)
    if who.via == "session":  # a bearer token cannot be sent by a cross-site form
        check_csrf(who.csrf_token, form)

    def record() -> str:
        with request.app.state.store.session() as session:
            return decide(session, slug, form.get("action", ""), who.name,
                          form.get("reason")).status

    try:
        status = await run_in_threadpool(record)
    except DecisionError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if not _wants_html(request):
        return JSONResponse({"ok": True, "slug": slug, "status": status})
    url = request.app.url_path_for("review_page")
    return RedirectResponse(f"{url}?done={slug}", status_code=303)
