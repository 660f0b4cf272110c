"""The register for people and programs: search pages and JSON, institutions, entry anatomy."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from eurodex.model import CheckResult, Outcome
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.web.app import create_app


@pytest.fixture
def served(harvested_store, serve):
    app = create_app(Settings(database_url=harvested_store.url), harvested_store)
    with serve(app) as running:
        yield running


def _search(served, **params) -> dict:
    response = httpx.get(served.url + "/api/v1/entries/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_json_has_results_and_facets_over_the_matches(served):
    body = _search(served, q="cnous")
    assert body["total"] == len(body["entries"]) == 5
    assert body["facets_complete"] and body["facets_counted"] == 5
    assert "api-cvec" in [e["slug"] for e in body["entries"]]
    for name in ("country", "kind", "institution_type", "topic", "tier", "state"):
        assert name in body["facets"]
    assert sum(v["count"] for v in body["facets"]["kind"]) == 5
    topics = {v["value"]: v for v in body["facets"]["topic"]}
    assert topics["EDUC"]["label"] == "Education, culture and sport"


def test_search_json_filters_sort_and_page(served):
    everything = _search(served, q="donnees", limit=100)
    for value in everything["facets"]["institution_type"]:
        narrowed = _search(served, q="donnees", institution_type=value["value"], limit=100)
        assert narrowed["total"] == value["count"] == len(narrowed["entries"])
        assert narrowed["filters"] == {"institution_type": value["value"]}
    by_score = _search(served, q="donnees", sort="score", limit=100)
    composites = [e["composite"] for e in by_score["entries"]]
    assert composites == sorted(composites, reverse=True)
    second = _search(served, q="donnees", limit=10, offset=10)
    assert [e["slug"] for e in second["entries"]] == [
        e["slug"] for e in everything["entries"][10:20]]


def test_entry_listing_takes_the_design_filters(served):
    facets = _search(served)["facets"]
    for name in ("topic", "institution_type", "tier"):
        value = facets[name][0]
        listed = httpx.get(served.url + "/api/v1/entries",
                           params={name: value["value"], "limit": 500}).json()
        assert listed["total"] == value["count"] == len(listed["entries"])


def test_bad_search_parameters_get_the_one_error_shape(served):
    for params in ({"topic": "NOPE"}, {"sort": "random"}, {"limit": 0}, {"country": "FRA"}):
        response = httpx.get(served.url + "/api/v1/entries/search", params=params)
        assert response.status_code == 422
        body = response.json()
        assert body["ok"] is False and body["status"] == 422
        assert next(iter(params)) in body["error"]
    page = httpx.get(served.url + "/?tier=great", headers={"accept": "text/html"})
    assert page.status_code == 422 and "tier" in page.text
    # A filter given twice is refused, never answered as if one of them was not asked for.
    for path in ("/api/v1/entries/search", "/api/v1/entries", "/"):
        twice = httpx.get(served.url + path + "?country=FR&country=NL&kind=API")
        assert twice.status_code == 422, path
        assert "country: given more than once" in twice.text and "kind" not in twice.text


def test_home_facets_are_links_that_narrow_and_widen(served):
    tree = HTMLParser(httpx.get(served.url + "/", params={"q": "donnees"}).text)
    link = tree.css_first('section[data-facet="topic"] a[data-value="EDUC"]')
    count = int(link.css_first(".count").attributes["data-count"])
    narrowed = HTMLParser(httpx.get(served.url + link.attributes["href"]).text)
    assert narrowed.css_first('[data-testid="result-count"]').text().split()[0] == str(count)
    assert len(narrowed.css("li.entry")) == min(count, 20)
    chosen = narrowed.css_first('section[data-facet="topic"] a.selected')
    assert chosen.attributes["aria-current"] == "true"
    widened = HTMLParser(httpx.get(served.url + chosen.attributes["href"]).text)
    total = widened.css_first('[data-testid="result-count"]').text().split()[0]
    assert int(total) > count
    form = widened.css_first("form.search")
    assert form.attributes["method"] == "get"
    assert widened.css_first("label[for=q]") is not None


def test_home_headline_and_relative_check_times(harvested_store, serve):
    with harvested_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        checked = repo.now_utc() - timedelta(hours=12, minutes=5)
        repo.record_check(session, entry, CheckResult(
            url="https://cvec-ctrl.etudiant.gouv.fr", started_at=checked, method="HEAD",
            outcome=Outcome.UP, http_status=200, latency_ms=80))
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        home = HTMLParser(httpx.get(s.url + "/", params={"sort": "checked"}).text)
        page = HTMLParser(httpx.get(s.url + "/entry/api-cvec").text)
    headline = home.css_first('[data-testid="headline"]').text()
    assert re.search(r"170\s+approved entries from\s+\d+\s+institutions in\s+1\s+country",
                     headline)
    first = home.css_first("li.entry")
    assert first.attributes["data-slug"] == "api-cvec"
    when = first.css_first("time")
    assert when.text() == "12h ago" and when.attributes["title"].endswith("UTC")
    strip = page.css_first(".record-strip")
    assert "checked 12h ago" in " ".join(strip.text().split())
    assert strip.css_first("time").attributes["title"] == checked.strftime("%Y-%m-%d %H:%M UTC")


def test_a_page_past_the_last_says_so_and_links_back(served):
    """170 entries are 9 pages of 20: page 12 is not an empty search."""
    html = HTMLParser(httpx.get(served.url + "/", params={"page": "12"}).text)
    past = html.css_first('[data-testid="past-the-end"]')
    assert past is not None and "only 9 pages" in " ".join(past.text().split())
    assert "page=9" in past.css_first("a").attributes["href"]
    assert "Nothing matches" not in html.text()
    assert "Page 12 of" not in html.text()


def test_entry_page_sections_follow_the_reference_order(served):
    tree = HTMLParser(httpx.get(served.url + "/entry/api-cvec").text)
    main = tree.css_first("main")
    order = [node.attributes.get("id") or node.attributes.get("class")
             for node in main.css("main > p.record-strip, main > ul.chips, main > section")]
    wanted = ["record-strip", "chips", "description", "tags", "trust", "proof", "schema",
              "verification", "using", "machine", "badge"]
    seen = [name for name in order if name in wanted]
    assert seen == wanted, order


def test_entry_page_shows_curl_examples_from_the_get_operations(served):
    tree = HTMLParser(httpx.get(served.url + "/entry/api-cvec").text)
    examples = [n.css_first("pre").text() for n in tree.css('[data-testid="curl-example"]')]
    base = "https://cvec-ctrl.etudiant.gouv.fr"
    assert examples == [
        f'curl -sS "{base}/api/attestation/<code>?etudiant=<etudiant>&year=<year>"',
        f'curl -sS "{base}/api/attestation/ine/<ine>?campagne=<campagne>"',
    ]
    assert tree.css_first('[data-testid="rate-limit"]').text() == "none declared by the publisher"
    methodology = tree.css_first("#trust a").attributes["href"]
    assert methodology == "/methodology#5-quality-score"
    assert 'id="5-quality-score"' in httpx.get(served.url + methodology).text


def test_entry_page_links_its_institution_and_a_badge_to_embed(served):
    tree = HTMLParser(httpx.get(served.url + "/entry/api-cvec").text)
    assert tree.css_first(".publisher a").attributes["href"] == "/institution/cnous"
    snippet = tree.css_first("#badge-md").text()
    assert snippet.startswith(f"[![eurodex: unverified]({served.url}/badge/api-cvec.svg)]")
    assert snippet.endswith(f"({served.url}/entry/api-cvec)")
    topic = tree.css_first("#tags li.topic a")
    assert topic.attributes["href"].startswith("/?topic=")


def test_institution_page_and_json(served):
    body = httpx.get(served.url + "/api/v1/institutions/cnous").json()
    assert body["acronym"] == "CNOUS" and body["type"] == "GOVERNMENT"
    slugs = [e["slug"] for e in body["entries"]]
    listed = httpx.get(served.url + "/api/v1/entries", params={"limit": 500}).json()["entries"]
    assert slugs == [e["slug"] for e in listed if (e["institution"] or {}).get("slug") == "cnous"]
    assert "api-cvec" in slugs
    held = [(p["entry"], p["proof"]) for p in body["proofs"]]
    assert ("api-cvec", "domain") in held
    assert body["url"] == served.url + "/institution/cnous"
    page = HTMLParser(httpx.get(served.url + "/institution/cnous").text)
    assert page.css_first("h1").text().startswith("Centre national des œuvres")
    assert [n.attributes["data-slug"] for n in page.css("#entries li.entry")] == slugs
    assert page.css('#proofs tr[data-proof="domain"]')
    listing = httpx.get(served.url + "/institutions").text
    assert 'href="/institution/cnous"' in listing
    missing = httpx.get(served.url + "/api/v1/institutions/nope")
    assert missing.status_code == 404 and missing.json()["ok"] is False


def test_every_country_of_the_shipped_data_has_a_name():
    """Facets, chips and institution pages show names, never bare codes, for every country
    the shipped portal registry covers (46, beyond the first eighteen written)."""
    import json
    from importlib import resources

    from eurodex.web.views import COUNTRY_NAMES

    path = resources.files("eurodex") / (
        "reference/dataportals-registry-europe/europe-public-catalogs.jsonl")
    countries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        owner = json.loads(line).get("owner") or {}  # whose country an entry takes
        country = (owner.get("location") or {}).get("country") or {}
        if country.get("id"):
            countries.add(country["id"])
    assert len(countries) >= 46
    assert sorted(countries - set(COUNTRY_NAMES)) == []
