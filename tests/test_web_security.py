"""Web hardening over real HTTP: security headers and a CSP with no inline script, the JSON
API's and the submissions' rate limits (429 with Retry-After), CSRF on every form, and no
secret in any log line.

The register is served by a real uvicorn on a loopback port (the ``serve`` fixture).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from eurodex.review.curators import add_curator
from eurodex.settings import Settings
from eurodex.web.app import create_app
from eurodex.web.forms import CSRF_COOKIE, SESSION_COOKIE
from eurodex.web.security import TokenBuckets

from .conftest import free_port
from .test_review import quarantine

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "eurodex" / "web" / "templates"
HTML = {"accept": "text/html"}


def form_token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def register(harvested_store, serve):
    """The harvested snapshot, served with the default settings (rate limit on)."""
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        yield s


@pytest.fixture
def review_site(store, serve):
    slug = quarantine(store)
    with store.session() as session:
        token = add_curator(session, "alice")
    with serve(create_app(Settings(database_url=store.url), store)) as served:
        yield served, token, slug


# -- headers and the CSP --------------------------------------------------------------------


def _assert_protected(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'none'"], csp
    assert directives["frame-ancestors"] == ["'none'"], csp
    assert directives["object-src"] == ["'none'"], csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_every_kind_of_answer_carries_the_security_headers(register):
    answers = {
        "page": httpx.get(register.url + "/", headers=HTML),
        "entry": httpx.get(register.url + "/entry/api-cvec", headers=HTML),
        "api": httpx.get(register.url + "/api/v1/entries?limit=1"),
        "missing page": httpx.get(register.url + "/entry/no-such-entry", headers=HTML),
        "missing json": httpx.get(register.url + "/api/v1/entries/no-such-entry"),
        "badge": httpx.get(register.url + "/badge/api-cvec.svg"),
        "stylesheet": httpx.get(register.url + "/static/style.css"),
        "health": httpx.get(register.url + "/healthz"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "page": 200, "entry": 200, "api": 200, "missing page": 404, "missing json": 404,
        "badge": 200, "stylesheet": 200, "health": 200}
    for name, response in answers.items():
        try:
            _assert_protected(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc


def test_the_interactive_api_docs_get_their_own_narrower_policy(register):
    docs = httpx.get(register.url + "/api/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert docs.headers["x-content-type-options"] == "nosniff"
    # Swagger UI comes from the register itself: no CDN, no other host trusted at all.
    assert "http" not in csp and "cdn.jsdelivr.net" not in csp
    # Only the page's own starting script runs, by its hash: no 'unsafe-inline' anywhere.
    assert "'unsafe-inline'" not in csp
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split()[1:] and all(
        s == "'self'" or s.startswith("'sha256-") for s in script_src.split()[1:])
    assert "'sha256-" in script_src


def _scripts_and_handlers(html: str) -> list[str]:
    """Everything in a page that a browser would run: script elements that are not data
    blocks, event-handler attributes, ``javascript:`` links."""
    found = []
    tree = LexborHTMLParser(html)
    for script in tree.css("script"):
        if (script.attributes.get("type") or "").lower() != "application/ld+json":
            found.append(f"<script {script.attributes}>")
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            if name.lower().startswith("on"):
                found.append(f"<{node.tag} {name}=...>")
            if name.lower() in ("href", "src", "action") and (value or "").strip().lower(
                    ).startswith("javascript:"):
                found.append(f"<{node.tag} {name}={value}>")
    return found


def test_no_page_has_inline_script(register):
    """The CSP refuses every script, so the pages must not need one (data blocks aside)."""
    institution = httpx.get(register.url + "/api/v1/institutions?limit=1").json()
    slug = institution["institutions"][0]["slug"]
    paths = ["/", "/?q=impots&kind=API", "/entry/api-cvec", "/institutions",
             f"/institution/{slug}", "/methodology", "/submit", "/review/login",
             "/entry/no-such-entry"]
    for path in paths:
        response = httpx.get(register.url + path, headers=HTML)
        assert response.status_code in (200, 404), path
        assert "<html" in response.text.lower(), path
        assert _scripts_and_handlers(response.text) == [], path


def test_no_template_holds_a_script_or_an_event_handler():
    """The rendered pages above miss branches a template takes only with some data."""
    for template in sorted(TEMPLATES.glob("*.html")):
        assert _scripts_and_handlers(template.read_text("utf-8")) == [], template.name


# -- the JSON API's rate limit --------------------------------------------------------------


def test_the_json_api_answers_429_with_retry_after_past_its_budget(store, serve):
    # 60 a minute: a burst of 12 (a fifth, at least 10), then one a second.
    settings = Settings(database_url=store.url, api_rate_per_minute=60)
    with serve(create_app(settings, store)) as served, httpx.Client(
            base_url=served.url) as client:
        statuses = [client.get("/api/v1/entries").status_code for _ in range(12)]
        assert statuses == [200] * 12
        limited = client.get("/api/v1/entries/search?q=x")
        assert limited.status_code == 429
        assert limited.json() == {"ok": False, "status": 429,
                                  "error": "too many requests: retry after 1 s"}
        assert limited.headers["retry-after"] == "1"
        _assert_protected(limited)
        # Pages, the health check and anything outside /api/ (such as /mcp) are not counted.
        assert client.get("/", headers=HTML).status_code == 200
        assert client.get("/healthz").status_code == 200
        # An MCP client's first message, to the MCP endpoint that shares the app.
        mcp = client.post("/mcp", timeout=10, json={
            "jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"accept": "application/json, text/event-stream"})
        assert mcp.status_code != 429
        time.sleep(int(limited.headers["retry-after"]))
        assert client.get("/api/v1/entries").status_code == 200


def test_a_rate_of_zero_turns_the_api_limit_off(store, serve):
    settings = Settings.from_env({"EURODEX_DATABASE_URL": store.url,
                                  "EURODEX_API_RATE_LIMIT": "0"})
    assert settings.api_rate_per_minute == 0
    with serve(create_app(settings, store)) as served, httpx.Client(
            base_url=served.url) as client:
        assert {client.get("/api/v1/entries").status_code for _ in range(80)} == {200}


def test_the_rate_setting_is_read_and_checked():
    assert Settings.from_env({}).api_rate_per_minute == 300
    assert Settings.from_env({"EURODEX_API_RATE_LIMIT": "120"}).api_rate_per_minute == 120
    for bad in ("fast", "-1"):
        with pytest.raises(ValueError, match="EURODEX_API_RATE_LIMIT"):
            Settings.from_env({"EURODEX_API_RATE_LIMIT": bad})


def test_token_buckets_refill_at_the_rate_and_forget_the_oldest_clients():
    buckets = TokenBuckets(per_minute=60, burst=2, max_clients=2)
    assert [buckets.take("a", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("a", now=0.0) == pytest.approx(1.0)
    assert buckets.take("a", now=0.5) == pytest.approx(0.5)  # half a token back: not yet
    assert buckets.take("a", now=1.0) == 0.0
    assert buckets.take("b", now=1.0) == 0.0  # clients have their own buckets
    buckets.take("c", now=1.0)  # a third client: the least recently seen ("a") is forgotten
    assert set(buckets._buckets) == {"b", "c"}
    assert buckets.take("a", now=1.0) == 0.0  # and starts again with a full burst


# -- the submissions' limit -------------------------------------------------------------------


def test_the_submission_form_answers_429_with_retry_after_too(store, serve):
    """The form and the JSON endpoint share one budget of 5 an hour per client."""
    # A name led to a closed loopback port: processed (so counted), refused at connect.
    settings = Settings(database_url=store.url,
                        host_overrides={"closed.example.fr:80": f"127.0.0.1:{free_port()}"})
    with serve(create_app(settings, store)) as served, httpx.Client(
            base_url=served.url, headers=HTML) as client:
        page = client.get("/submit")
        client.cookies.set(CSRF_COOKIE, page.cookies[CSRF_COOKIE])
        form = {"name": "Example", "url": "http://closed.example.fr/", "country": "FR",
                "csrf_token": form_token(page.text)}
        assert client.post("/api/v1/submissions", json=form).status_code == 422
        assert [client.post("/submit", data=form).status_code for _ in range(4)] == [422] * 4
        limited = client.post("/submit", data=form)
        assert limited.status_code == 429
        assert 3500 <= int(limited.headers["retry-after"]) <= 3600
        assert "Too many submissions from your address" in limited.text
        api = client.post("/api/v1/submissions", json=form)
        assert api.status_code == 429 and "retry-after" in api.headers


# -- CSRF -------------------------------------------------------------------------------------


def test_csrf_cookies_are_host_only_secure_and_strict(review_site):
    served, _, _ = review_site
    page = httpx.get(served.url + "/submit")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and CSRF_COOKIE.startswith("__Host-")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "domain" not in attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()


@pytest.mark.parametrize("path, page_path, values", [
    ("/submit", "/submit", {"name": "Example", "url": "not a url", "country": "FR"}),
    ("/review/login", "/review/login", {"token": "edx_not_a_token"}),
])
def test_anonymous_forms_refuse_a_missing_wrong_or_cross_site_token(
        review_site, path, page_path, values):
    served, _, _ = review_site
    with httpx.Client(base_url=served.url, headers=HTML) as client:
        page = client.get(page_path)
        token = form_token(page.text)
        assert client.post(path, data=values).status_code == 403  # no cookie, no field
        client.cookies.set(CSRF_COOKIE, page.cookies[CSRF_COOKIE])
        assert client.post(path, data=values).status_code == 403  # cookie, no field
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        refused = client.post(path, data={**values, "csrf_token": wrong})
        assert refused.status_code == 403 and "security token" in refused.text
        right = {**values, "csrf_token": token}
        # The right token, but the browser says the post comes from another site.
        for headers in ({"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
                        {"origin": "https://attacker.example"}, {"origin": "null"}):
            refused = client.post(path, data=right, headers=headers)
            assert refused.status_code == 403, headers
            assert "posted from another site" in refused.text
        # The same post from the register's own page goes through (to the form's own check).
        same = client.post(path, data=right, headers={
            "sec-fetch-site": "same-origin", "origin": served.url})
        assert same.status_code in (401, 422), same.text  # a bad URL or a bad curator token


def test_session_forms_refuse_a_missing_wrong_or_cross_site_token(review_site):
    served, token, slug = review_site
    with httpx.Client(base_url=served.url, headers=HTML) as client:
        login = client.get("/review/login")
        client.cookies.set(CSRF_COOKIE, login.cookies[CSRF_COOKIE])
        signed = client.post("/review/login", data={"token": token,
                                                    "csrf_token": form_token(login.text)})
        assert signed.status_code == 303
        assert signed.headers["set-cookie"].startswith(f"{SESSION_COOKIE}=")
        client.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
        session_token = form_token(client.get("/review").text)
        decide = {"action": "approve", "reason": "the agency's own API"}
        for data in (decide, {**decide, "csrf_token": "x" * 43},
                     {**decide, "csrf_token": form_token(login.text)}):
            assert client.post(f"/review/{slug}", data=data).status_code == 403
            assert client.post("/review/logout", data=data).status_code == 403
        right = {**decide, "csrf_token": session_token}
        cross = client.post(f"/review/{slug}", data=right, headers={"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403
        assert client.get("/review").text.count('class="queue-item"') == 2  # nothing decided
        done = client.post(f"/review/{slug}", data=right, headers={"sec-fetch-site": "same-origin"})
        assert done.status_code == 303
        assert client.get("/review").text.count('class="queue-item"') == 1
        out = client.post("/review/logout", data={"csrf_token": session_token})
        assert out.status_code == 303
        assert client.get("/review").status_code == 401  # the session is closed


def test_a_bearer_token_needs_no_csrf_token_and_no_browser_headers(review_site):
    served, token, slug = review_site
    done = httpx.post(served.url + f"/review/{slug}", data={"action": "approve", "reason": "ok"},
                      headers={"authorization": f"Bearer {token}"})
    assert done.status_code == 200 and done.json()["status"] == "APPROVED"


# -- no secret in the logs --------------------------------------------------------------------


def test_no_token_or_secret_is_ever_logged(review_site, caplog):
    """A curator signs in, decides and signs out; a stranger submits: with every logger at
    DEBUG and SQL statements logged with their parameters, no token, session secret or CSRF
    token shows up."""
    served, token, slug = review_site
    caplog.set_level(logging.DEBUG)
    # Statements with their parameters, as echo=True shows them. (DEBUG would add every
    # result row: a developer's dump of the tables that the CLI never turns on.)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    for name in ("eurodex", "uvicorn", "uvicorn.error", "uvicorn.access"):
        caplog.set_level(logging.DEBUG, logger=name)
        logging.getLogger(name).addHandler(caplog.handler)
    secrets_seen: list[str] = [token, token.split("_", 2)[2]]
    try:
        with httpx.Client(base_url=served.url, headers=HTML) as client:
            login = client.get("/review/login")
            anonymous = form_token(login.text)
            client.cookies.set(CSRF_COOKIE, login.cookies[CSRF_COOKIE])
            signed = client.post("/review/login", data={"token": token, "csrf_token": anonymous})
            assert signed.status_code == 303
            session_secret = signed.cookies[SESSION_COOKIE]
            client.cookies.set(SESSION_COOKIE, session_secret)
            session_csrf = form_token(client.get("/review").text)
            assert client.post(f"/review/{slug}", data={
                "action": "approve", "reason": "ok", "csrf_token": session_csrf}
            ).status_code == 303
            assert client.post("/review/logout", data={"csrf_token": session_csrf}
                               ).status_code == 303
            submitted = client.post("/submit", data={
                "name": "Example", "url": "https://127.0.0.1:1/", "country": "FR",
                "csrf_token": anonymous})
            assert submitted.status_code == 422
            # A wrong token tried by someone else is not echoed into the logs either.
            wrong = client.post("/review/login", data={"token": token[:-2] + "zz",
                                                       "csrf_token": anonymous})
            assert wrong.status_code == 401
        secrets_seen += [anonymous, session_secret, session_csrf, token[:-2] + "zz"]
    finally:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).removeHandler(caplog.handler)
    # httpx and httpcore are this test's own client (the register does not use them): its
    # DEBUG lines repeat the cookies the server sent, which is the client's business.
    lines = [caplog.handler.format(r) for r in caplog.records
             if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(lines)
    # The capture saw the requests: SQL statements (with the session's INSERT), the decision.
    assert "INSERT INTO curator_sessions" in text
    assert "alice approved exa" in text
    for secret in secrets_seen:
        assert len(secret) >= 20
        assert secret not in text, f"a secret reached the logs: {secret[:6]}..."
