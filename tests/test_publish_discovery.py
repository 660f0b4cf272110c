"""Summary counts, llms.txt and the sitemap, generated from the live register."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from eurodex.model import Status
from eurodex.settings import Settings
from eurodex.store.tables import Entry, Institution, Score
from eurodex.web.app import create_app

from .conftest import check_cvec_up

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def served(published_store, serve):
    check_cvec_up(published_store)
    with serve(create_app(Settings(database_url=published_store.url), published_store)) as s:
        yield s


def _approved(store):
    with store.session() as session:
        return session.execute(
            select(Entry.slug, Entry.kind, Entry.country, Institution.type, Score.tier)
            .outerjoin(Institution, Institution.id == Entry.institution_id)
            .outerjoin(Score, Score.entry_id == Entry.id)
            .where(Entry.status == Status.APPROVED.value)).all()


def test_summary_counts_approved_entries_along_every_facet(served, published_store):
    rows = _approved(published_store)
    body = httpx.get(served.url + "/api/v1/catalog/summary").json()

    assert body["total"] == len(rows)
    assert body["by_kind"] == dict(Counter(r.kind for r in rows))
    assert body["by_country"] == dict(Counter(r.country or "none" for r in rows))
    assert body["by_institution_type"] == dict(Counter(r.type or "none" for r in rows))
    assert body["by_tier"] == dict(Counter(r.tier or "none" for r in rows))
    assert body["by_state"] == {"UNVERIFIED": len(rows) - 1, "VERIFIED": 1}
    assert list(body["by_country"].values()) == sorted(body["by_country"].values(),
                                                       reverse=True)


def test_llms_txt_describes_the_live_register_and_its_doors(served, published_store):
    response = httpx.get(served.url + "/llms.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    rows = _approved(published_store)
    assert text.startswith("# eurodex\n\n> ")
    assert f"{len(rows)} approved entries" in text
    for path in ("/api/v1/catalog/dcat.ttl", "/api/v1/catalog/dcat.jsonld", "/mcp",
                 "/api/v1/feeds/atom", "/api/v1/export/entries.csv", "/openapi.json"):
        assert f"]({served.url}{path}" in text
    # Every list item is one well-formed Markdown link, and every entry listed is approved.
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert all(re.match(r"- \[[^\]]+\]\([^)\s]+\)", line) for line in items)
    listed = re.findall(re.escape(served.url) + r"/entry/([a-z0-9-]+)\)", text)
    assert listed and set(listed) <= {r.slug for r in rows}


def test_sitemap_lists_approved_entries_and_their_institutions(served, published_store):
    response = httpx.get(served.url + "/sitemap.xml")
    assert response.headers["content-type"].startswith("application/xml")
    locations = [u.findtext(f"{SITEMAP}loc") for u in ET.fromstring(response.content)]
    entries = {loc.rsplit("/entry/", 1)[1] for loc in locations if "/entry/" in loc}
    assert entries == {r.slug for r in _approved(published_store)}
    assert served.url + "/methodology" in locations
    assert served.url + "/institution/cnous" in locations
    assert len(locations) == len(set(locations))
