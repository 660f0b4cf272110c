"""The web register served by a real uvicorn: pages, JSON API, error shape, sanitising."""

from __future__ import annotations

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.web.app import create_app
from eurodex.web.pages import render_markdown


@pytest.fixture
def served(harvested_store, serve):
    app = create_app(Settings(database_url=harvested_store.url), harvested_store)
    with serve(app) as running:
        yield running


def test_home_lists_approved_entries_with_paging(served):
    page = httpx.get(served.url + "/").text
    assert "<strong>170</strong> approved entries" in page
    assert page.count('<li class="entry"') == 20
    assert "Page 1 of 9" in page
    last = httpx.get(served.url + "/?page=9").text
    assert last.count('<li class="entry"') == 10


def test_json_entries_are_paged_and_filtered(served):
    body = httpx.get(served.url + "/api/v1/entries", params={"limit": 5, "offset": 5}).json()
    assert body["total"] == 170 and len(body["entries"]) == 5
    first = body["entries"][0]
    assert set(first) >= {"slug", "kind", "name", "country", "institution", "state", "tier"}
    assert first["url"].startswith(served.url + "/entry/")
    assert httpx.get(served.url + "/api/v1/entries", params={"country": "DE"}).json()[
        "total"] == 0
    assert httpx.get(served.url + "/api/v1/entries", params={"kind": "api"}).json()[
        "total"] == 170


def test_entry_json_carries_proofs_schema_and_score(served):
    body = httpx.get(served.url + "/api/v1/entries/api-cvec").json()
    assert body["institution"]["type"] == "GOVERNMENT"
    assert body["schema"]["field_count"] == 17
    assert [p["name"] for p in body["proofs"]] == [
        "domain", "portal_backlink", "github_org", "reciprocal_link", "policy_page"]
    assert body["quality_score"]["axes"][0] == {
        "axis": "officialness", "score": 40, "weight": 25,
        "sentence": "Official domain only (1 of 5 proofs)"}
    assert body["state"] == "UNVERIFIED" and body["last_check"] is None


def test_errors_have_one_shape(served):
    for path in ("/api/v1/entries/nope", "/api/v1/entries/nope/quality-score"):
        response = httpx.get(served.url + path)
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error": "no such entry", "status": 404}
    bad = httpx.get(served.url + "/api/v1/entries", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["ok"] is False and "limit" in bad.json()["error"]
    page = httpx.get(served.url + "/entry/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "no entry &#39;nope&#39;" in page.text


def test_methodology_health_and_badge(served):
    page = httpx.get(served.url + "/methodology").text
    assert '<h2 id="5-quality-score">5. Quality score</h2>' in page
    assert "<table>" in page  # the methodology's tables render as tables
    assert httpx.get(served.url + "/healthz").json() == {"ok": True, "version": "0.1.0"}
    badge = httpx.get(served.url + "/badge/api-cvec.svg")
    assert badge.headers["content-type"] == "image/svg+xml"
    assert "unverified · fair" in badge.text


def test_entry_page_shows_the_description_and_provenance(served):
    page = httpx.get(served.url + "/entry/api-cvec").text
    assert "<h3>À quoi sert l’API contrôle CVEC ?</h3>" in page
    assert "Where each value came from" in page
    assert "Not checked yet" in page


def test_a_hostile_description_renders_inert(harvested_store, serve):
    store = harvested_store
    with store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        entry.description = (
            "Hello <script>alert(1)</script> [click](javascript:alert(2)) "
            '<a href="javascript:alert(3)" onclick="x()">raw</a> <img src=x onerror=alert(4)>'
        )
    with serve(create_app(Settings(database_url=store.url), store)) as running:
        page = httpx.get(running.url + "/entry/api-cvec").text
    tree = HTMLParser(page)
    section = tree.css_first("section[aria-labelledby=h-description]")
    assert "Hello" in section.text()
    # The one script element is the page's schema.org data block, which never runs.
    assert [s.attributes.get("type") for s in tree.css("script")] == ["application/ld+json"]
    assert "<script>alert" not in page and section.css("img") == []
    for node in section.css("*"):
        assert not any(name.startswith("on") for name in node.attributes), node.html
        assert not (node.attributes.get("href") or "").strip().lower().startswith("javascript")
    assert [a.attributes["href"] for a in section.css("a")] == []


def test_markdown_keeps_safe_links():
    html = render_markdown("[site](https://api.gouv.fr) and **bold**")
    assert 'href="https://api.gouv.fr"' in html and "<strong>bold</strong>" in html
    assert 'rel="nofollow noopener"' in html
