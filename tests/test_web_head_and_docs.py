"""Three things a user found over real HTTP: paging bounds and unexpected failures answer in
the API's one error shape, the interactive docs work offline from the register's own files,
and HEAD answers wherever GET does.

The register is served by a real uvicorn on a loopback port (the ``serve`` fixture); the
docs page is rendered in Debian's Chromium, as in test_security_browser.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from eurodex.settings import Settings
from eurodex.web import params, search_api
from eurodex.web.app import create_app

HUGE = "99999999999999999999999"  # beyond any SQL integer: once an OverflowError, a 500


@pytest.fixture
def served(harvested_store, serve):
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        yield s


def _assert_error_shape(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False and body["status"] == status and body["error"]
    return body


# 1. Paging bounds, and the one error shape for failures nobody foresaw.

@pytest.mark.parametrize("path", ["/api/v1/entries", "/api/v1/entries/api-cvec/checks"])
def test_a_huge_offset_is_refused_with_a_json_422(served, path):
    body = _assert_error_shape(httpx.get(f"{served.url}{path}?offset={HUGE}"), 422)
    assert "offset" in body["error"]


def test_the_offset_bounds_let_every_reachable_page_through(served):
    """The bounds refuse only what no one needs: the deepest allowed page still answers."""
    assert params.MAX_OFFSET == search_api.MAX_OFFSET  # /entries pages as deep as the search
    url = served.url + "/api/v1/entries"
    assert httpx.get(url, params={"offset": params.MAX_OFFSET}).status_code == 200
    _assert_error_shape(httpx.get(url, params={"offset": params.MAX_OFFSET + 1}), 422)
    checks = served.url + "/api/v1/entries/api-cvec/checks"
    assert httpx.get(checks, params={"offset": params.MAX_CHECK_OFFSET}).status_code == 200
    _assert_error_shape(httpx.get(checks, params={"offset": params.MAX_CHECK_OFFSET + 1}), 422)


def test_an_unexpected_failure_answers_a_json_500(served, monkeypatch):
    """Whatever breaks inside a route, the client gets the error shape, not plain text."""
    def broken(*_args, **_kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr("eurodex.web.api.search", broken)
    response = httpx.get(served.url + "/api/v1/entries")
    body = _assert_error_shape(response, 500)
    assert "SQLite" not in body["error"]  # nothing of the inside is told
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'none'" in response.headers["content-security-policy"]


# 2. /api/docs from the register's own files.

def _local_assets(html: str) -> list[str]:
    tree = LexborHTMLParser(html)
    urls = [s.attributes["src"] for s in tree.css("script[src]")]
    urls += [link.attributes["href"] for link in tree.css("link[href]")]
    return urls


def test_the_docs_page_loads_swagger_ui_from_the_register_itself(served):
    docs = httpx.get(served.url + "/api/docs")
    assert docs.status_code == 200
    assets = _local_assets(docs.text)
    assert len(assets) == 3  # the script, the stylesheet, the icon
    kinds = set()
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = httpx.get(served.url + url)
        assert asset.status_code == 200, url
        kinds.add(asset.headers["content-type"].split(";")[0])
    assert kinds == {"text/javascript", "text/css", "image/png"}
    assert "cdn.jsdelivr.net" not in docs.text and "fastapi.tiangolo.com" not in docs.text
    assert "'/openapi.json'" in docs.text
    # The OAuth2 flow comes back under /api/docs, where the page is, and finds it there.
    assert "window.location.origin + '/api/docs/oauth2-redirect'" in docs.text
    redirect = httpx.get(served.url + "/api/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "swaggerUIRedirectOauth2" in redirect.text
    assert "'sha256-" in redirect.headers["content-security-policy"]
    assert httpx.get(served.url + "/docs/oauth2-redirect").status_code == 404


def test_the_docs_page_renders_offline_in_chromium(served, browser):
    """Every request stays on 127.0.0.1 (others are aborted, as offline), the CSP refuses
    nothing, and Swagger UI draws the operations."""
    context = browser.new_context()
    page = context.new_page()
    requested, problems = [], []

    def only_loopback(route) -> None:
        requested.append(route.request.url)
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_loopback)
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        response = page.goto(served.url + "/api/docs")
        assert response.status == 200
        page.wait_for_selector(".opblock", timeout=15_000)
        assert page.locator(".opblock").count() > 10
        assert page.locator(".opblock-summary-path", has_text="/api/v1/entries").count() > 0
    finally:
        context.close()
    assert requested and all(urlsplit(u).hostname == "127.0.0.1" for u in requested), requested
    assert problems == []


# 3. HEAD wherever GET answers.

@pytest.mark.parametrize("path", ["/healthz", "/", "/entry/api-cvec", "/badge/api-cvec.svg",
                                  "/api/v1/entries", "/static/swagger-ui/swagger-ui.css"])
def test_head_answers_like_get_without_a_body(served, path):
    get = httpx.get(served.url + path)
    head = httpx.head(served.url + path)
    assert get.status_code == head.status_code == 200, path
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.content == b""
    # The length the GET would send, not the empty body's.
    assert int(head.headers["content-length"]) == len(get.content)
    assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
    assert "allow" not in head.headers


def test_head_on_an_unknown_path_is_a_404(served):
    head = httpx.head(served.url + "/no/such/page")
    assert head.status_code == 404
    assert head.content == b""
    assert head.headers["content-type"].startswith("application/json")
