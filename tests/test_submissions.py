"""Public submissions over real HTTP: refused internal addresses, a proven candidate, limits.

The register is served by uvicorn on a loopback port; the submitted "public" hosts are TLS
stand-ins on loopback reached through host overrides. No network range is allowed, so any
other loopback, private or link-local address must be refused by the address guard.
"""

from __future__ import annotations

import json

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser
from werkzeug import Response

from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.web.app import create_app
from eurodex.web.forms import CSRF_COOKIE

from .conftest import free_port, tls_server
from .officialness_helpers import AGENCY_HOST, CURATION_YAML, agency_page

PORTAL_HOST = "portal.redirecting-host.fr"
CLOSED_HOST = "closed.example-agency.gouv.fr"  # led to a loopback port nobody listens on
WRONG_CERT_HOST = "other.example-agency.gouv.fr"  # served with AGENCY_HOST's certificate
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Example", "version": "1"},
    "servers": [{"url": f"https://{AGENCY_HOST}/v1"}],
    "paths": {"/things": {"get": {
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}}}}},
}


@pytest.fixture
def stand_ins(ca):
    agency = tls_server(ca, AGENCY_HOST)
    portal = tls_server(ca, PORTAL_HOST)
    yield agency, portal
    for server in (agency, portal):
        server.clear()
        server.stop()


@pytest.fixture
def site(store, serve, stand_ins, ca_file, tmp_path):
    agency, portal = stand_ins
    curation = tmp_path / "curation.yaml"
    curation.write_text(CURATION_YAML, "utf-8")
    settings = Settings(
        database_url=store.url, extra_ca_file=ca_file, curation_file=str(curation),
        host_overrides={f"{AGENCY_HOST}:443": f"127.0.0.1:{agency.port}",
                        f"{PORTAL_HOST}:443": f"127.0.0.1:{portal.port}",
                        f"{CLOSED_HOST}:443": f"127.0.0.1:{free_port()}",
                        f"{WRONG_CERT_HOST}:443": f"127.0.0.1:{agency.port}"},
    )
    with serve(create_app(settings, store)) as served:
        yield served


def submit(served, url, name="Example API", country="FR"):
    return httpx.post(served.url + "/api/v1/submissions", timeout=60,
                      json={"name": name, "url": url, "country": country})


@pytest.mark.parametrize("url, category", [
    ("http://10.0.0.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]:9/", "loopback"),
])
def test_internal_addresses_are_refused_before_any_connection(site, url, category):
    response = submit(site, url)
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert f"({category} address)" in body["error"]
    assert "eurodex never fetches loopback, private, link-local or cloud-metadata" in (
        body["error"])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_server_is_never_reached(site, httpserver, host):
    httpserver.expect_request("/").respond_with_data("secret admin page")
    response = submit(site, f"http://{host}:{httpserver.port}/")
    assert response.status_code == 422
    assert "was refused" in response.json()["error"]
    assert "(loopback address)" in response.json()["error"]
    assert httpserver.log == []


@pytest.mark.parametrize("target", ["loopback", "http://10.0.0.1/admin",
                                    "http://169.254.169.254/latest/meta-data/"])
def test_a_host_that_redirects_inward_is_refused(site, stand_ins, httpserver, target):
    _, portal = stand_ins
    httpserver.expect_request("/").respond_with_data("secret admin page")
    location = f"http://127.0.0.1:{httpserver.port}/" if target == "loopback" else target
    portal.expect_request("/").respond_with_response(
        Response(status=302, headers={"Location": location}))
    response = submit(site, f"https://{PORTAL_HOST}/")
    assert response.status_code == 422
    error = response.json()["error"]
    assert f"(it redirects to {location})" in error and "was refused" in error
    assert httpserver.log == []  # the inner server saw nothing
    assert len(portal.log) == 1


def test_a_submission_becomes_a_proven_candidate(site, stand_ins, store):
    agency, _ = stand_ins
    agency.expect_request("/").respond_with_data(agency_page(
        ("/openapi.json", "OpenAPI"),
        ("/guide", "Documentation"),
        ("https://www.example-agency.gouv.fr/", "Example Agency"),
        ("https://www.example-agency.gouv.fr/donnees-personnelles", "Données personnelles"),
    ), content_type="text/html; charset=utf-8")
    agency.expect_request("/openapi.json").respond_with_data(json.dumps(SPEC),
                                                             content_type="application/json")
    agency.expect_request("/guide").respond_with_data("<p>guide</p>", content_type="text/html")
    response = submit(site, f"https://{AGENCY_HOST}/")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "ok": True, "slug": body["slug"], "status": "QUARANTINED",
        "status_reason": "officialness 55 is 40-79: waiting for review",
        "officialness": 55, "spec_url": f"https://{AGENCY_HOST}/openapi.json",
        "docs_url": f"https://{AGENCY_HOST}/guide", "institution": "Example Agency",
        "url": f"{site.url}/entry/{body['slug']}",
    }
    with store.session() as session:
        entry = repo.entry_by_slug(session, body["slug"])
        assert entry.source.slug == "submissions" and not entry.source.trusted
        assert entry.base_url == f"https://{AGENCY_HOST}/v1"  # from the spec's servers
        assert repo.schema_for(session, entry.id).filterable_count == 1
        proofs = {p.name.value: p.held for p in repo.proofs_for(session, entry.id)}
        assert proofs == {"domain": True, "portal_backlink": False, "github_org": False,
                          "reciprocal_link": True, "policy_page": True}
    # Quarantined: not listed, but its page says it waits for review.
    assert httpx.get(site.url + "/api/v1/entries").json()["total"] == 0
    page = httpx.get(body["url"]).text
    assert "Pending review." in page
    # The "Official proof" section lists every proof, held or not, with its evidence.
    section = LexborHTMLParser(page).css_first("section#proof")
    shown = {li.attributes["data-proof"]: li.attributes["class"]
             for li in section.css("li.proof")}
    assert shown == {"domain": "proof held", "portal_backlink": "proof not-held",
                     "github_org": "proof not-held", "reciprocal_link": "proof held",
                     "policy_page": "proof held"}
    text = " ".join(section.text().split())
    assert "QUARANTINED, officialness 55 is 40-79: waiting for review" in text
    assert "Proven: 55 of 100 points" in text
    assert (f"https://{AGENCY_HOST}/ links to https://www.example-agency.gouv.fr/, the homepage "
            "of EXA") in text
    assert "listed only by public submissions" in text
    # The home page was read once, though two proofs and the spec search used it.
    assert [r.path for r, _ in agency.log].count("/") == 1


def test_submissions_are_limited_per_client(site, stand_ins):
    """Processed submissions count, refused ones included; invalid ones, and addresses refused
    without a lookup, do not (see test_submission_validation)."""
    _, portal = stand_ins
    portal.expect_request("/").respond_with_response(
        Response(status=302, headers={"Location": "http://10.0.0.1/"}))
    for _ in range(5):
        assert submit(site, "http://10.0.0.1/").status_code == 422  # free: no fetch
    for _ in range(5):
        assert submit(site, f"https://{PORTAL_HOST}/").status_code == 422  # fetched, refused
    assert len(portal.log) == 5
    limited = submit(site, f"https://{PORTAL_HOST}/")
    assert limited.status_code == 429
    assert 3500 <= int(limited.headers["retry-after"]) <= 3600
    assert limited.json()["error"].startswith("too many submissions")


def test_the_json_endpoint_explains_bad_requests(site):
    assert httpx.post(site.url + "/api/v1/submissions", content=b"name=x").status_code == 415
    bad = httpx.post(site.url + "/api/v1/submissions", content=b"{", headers={
        "content-type": "application/json"})
    assert bad.status_code == 422 and "name, url and country" in bad.json()["error"]
    country = submit(site, "https://example.org/", country="France")
    assert country.json()["error"] == (
        "the country must be a two-letter code (FR, DE, NL, ...) or EU")


def test_the_submission_form_needs_its_csrf_token(site, httpserver):
    with httpx.Client(base_url=site.url, headers={"accept": "text/html"}) as client:
        form = client.get("/submit")
        assert form.status_code == 200 and 'name="url"' in form.text
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        values = {"name": "Internal", "url": f"http://127.0.0.1:{httpserver.port}/",
                  "country": "FR"}
        assert client.post("/submit", data=values).status_code == 403
        client.cookies.set(CSRF_COOKIE, form.cookies[CSRF_COOKIE])
        refused = client.post("/submit", data={**values, "csrf_token": token})
        assert refused.status_code == 422
        assert "Refused:" in refused.text and "loopback address" in refused.text
    assert httpserver.log == []
