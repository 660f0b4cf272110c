"""The hardened pages in Debian's Chromium: the CSP refuses nothing the pages use, the
submission form works end to end with its CSRF token, and a form posted from another site
is refused.

Driven by Playwright with ``executable_path="/usr/bin/chromium"`` (never ``playwright
install``); skipped with the reason without Chromium, failed under CI=true.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from eurodex.settings import Settings
from eurodex.store.tables import Entry, Source
from eurodex.web.app import create_app

from .conftest import tls_server
from .officialness_helpers import AGENCY_HOST, CURATION_YAML, agency_page

SPEC = {
    "openapi": "3.0.3", "info": {"title": "Example", "version": "1"},
    "servers": [{"url": f"https://{AGENCY_HOST}/v1"}],
    "paths": {"/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


@pytest.fixture
def watched_page(browser):
    """A tab that records every console error and CSP violation report."""
    context = browser.new_context()
    page = context.new_page()
    page.problems = []

    def console(message) -> None:
        where = message.location.get("url", "")
        # Chromium asks every site for /favicon.ico; the register has none, which is no fault.
        if message.type == "error" and not where.endswith("/favicon.ico"):
            page.problems.append(f"{message.text} ({where})")

    page.on("console", console)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def test_the_pages_load_whole_under_the_csp(harvested_store, serve, watched_page):
    page = watched_page
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        for path in ("/", "/?q=etudiant", "/entry/api-cvec", "/institutions", "/methodology",
                     "/submit", "/review/login"):
            response = page.goto(s.url + path)
            assert response.status == 200, path
            # The stylesheet was applied: the CSP let the register's own CSS in.
            rules = page.evaluate("document.styleSheets[0].cssRules.length")
            assert rules > 10, path
        # The badges embedded in the entry page are drawn (images, allowed by img-src).
        page.goto(s.url + "/entry/api-cvec")
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert widths and all(w > 0 for w in widths)
    assert page.problems == []


@pytest.fixture
def submission_site(store, serve, ca, ca_file, tmp_path):
    agency = tls_server(ca, AGENCY_HOST)
    agency.expect_request("/").respond_with_data(agency_page(
        ("/openapi.json", "OpenAPI"), ("/guide", "Documentation"),
        ("https://www.example-agency.gouv.fr/", "Example Agency"),
    ), content_type="text/html; charset=utf-8")
    agency.expect_request("/openapi.json").respond_with_data(
        json.dumps(SPEC), content_type="application/json")
    agency.expect_request("/guide").respond_with_data("<p>guide</p>", content_type="text/html")
    curation = tmp_path / "curation.yaml"
    curation.write_text(CURATION_YAML, "utf-8")
    settings = Settings(database_url=store.url, extra_ca_file=ca_file,
                        curation_file=str(curation),
                        host_overrides={f"{AGENCY_HOST}:443": f"127.0.0.1:{agency.port}"})
    try:
        with serve(create_app(settings, store)) as served:
            yield served
    finally:
        agency.clear()
        agency.stop()


def test_the_submission_form_works_in_the_browser(submission_site, store, watched_page):
    page = watched_page
    page.goto(submission_site.url + "/submit")
    page.fill("#name", "Example agency API")
    page.fill("#url", f"https://{AGENCY_HOST}/")
    page.fill("#country", "FR")
    with page.expect_response(lambda r: r.url.endswith("/submit")
                              and r.request.method == "POST") as posted:
        page.click("form.stacked button[type=submit]")
    assert posted.value.status == 201
    assert page.inner_text('[data-testid="submit-status"]') == "QUARANTINED"
    assert page.problems == []
    assert _submitted(store) == 1


def test_a_form_posted_from_another_site_is_refused(submission_site, store, watched_page):
    """A page on another site (``localhost`` is not the site ``127.0.0.1``) carries a copy
    of the submission form. The visitor has been on the register first, so a CSRF cookie
    exists; the browser withholds it (SameSite) and says the post is cross-site."""
    page = watched_page
    page.goto(submission_site.url + "/submit")  # the visitor got a CSRF cookie here
    attacker = HTTPServer(host="127.0.0.1", port=0)
    attacker.expect_request("/").respond_with_data(f"""<!doctype html><title>win</title>
<form method="post" action="{submission_site.url}/submit">
  <input type="hidden" name="csrf_token" value="guessed-token-guessed-token-guessed">
  <input name="name" value="Planted API"><input name="url" value="https://{AGENCY_HOST}/">
  <input name="country" value="FR"><button type="submit">Win a prize</button>
</form>""", content_type="text/html")
    attacker.start()
    try:
        page.goto(f"http://localhost:{attacker.port}/")
        with page.expect_response(lambda r: r.url.endswith("/submit")) as posted:
            page.click("button")
        assert posted.value.status == 403
        assert "posted from another site" in page.content()
    finally:
        attacker.clear()
        attacker.stop()
    assert _submitted(store) == 0


def _submitted(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Entry).join(
            Source, Source.id == Entry.source_id).where(Source.slug == "submissions"))
