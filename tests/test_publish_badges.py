"""Badges (state and tier, uptime; SVG and shields.io JSON) and the entry page's embeds.

The SVG is rendered by Debian's Chromium (Playwright): its text must be drawn, inside the
badge. The entry page keeps working under its CSP with a schema.org JSON-LD block.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from eurodex.model import CheckResult, Outcome
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.web.app import create_app

from .test_browser_register import page  # noqa: F401  (a fixture: a tab in Debian's Chromium)


@pytest.fixture
def served(harvested_store, serve):
    with harvested_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        for minutes, outcome in ((50, Outcome.UP), (40, Outcome.UP), (30, Outcome.UP)):
            repo.record_check(session, entry, CheckResult(
                url="https://cvec-ctrl.etudiant.gouv.fr", method="HEAD", outcome=outcome,
                started_at=repo.now_utc() - timedelta(minutes=minutes), http_status=200,
                latency_ms=70))
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        yield s


def _max_age(cache_control: str) -> int:
    return int(re.search(r"max-age=(\d+)", cache_control).group(1))


@pytest.mark.parametrize("path", ["/badge/api-cvec.svg", "/badge/api-cvec/uptime.svg",
                                  "/badge/api-cvec.json", "/badge/api-cvec/uptime.json"])
def test_a_badge_requested_with_its_etag_is_not_sent_again(served, path):
    first = httpx.get(served.url + path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    cache = first.headers["cache-control"]
    assert _max_age(cache) >= 120 and "stale-if-error=" in cache

    again = httpx.get(served.url + path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    listed = httpx.get(served.url + path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    stale = httpx.get(served.url + path, headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_badges_say_state_tier_and_uptime(served):
    state = httpx.get(served.url + "/badge/api-cvec.svg")
    assert state.headers["content-type"] == "image/svg+xml"
    assert re.search(r">verified · (excellent|good|fair|poor)</text>", state.text)
    assert 'fill="#2e7d32"' in state.text
    uptime = httpx.get(served.url + "/badge/api-cvec/uptime.svg").text
    assert ">uptime 30d</text>" in uptime and ">100 %</text>" in uptime

    shields = httpx.get(served.url + "/badge/api-cvec.json").json()
    assert shields["schemaVersion"] == 1 and shields["label"] == "eurodex"
    assert shields["message"].startswith("verified · ") and shields["color"] == "2e7d32"
    assert httpx.get(served.url + "/badge/api-cvec/uptime.json").json()["message"] == "100 %"
    missing = httpx.get(served.url + "/badge/no-such-entry.svg")
    assert missing.status_code == 404


def test_the_badge_svg_renders_in_chromium_with_its_text(served, page):  # noqa: F811
    page.goto(served.url + "/badge/api-cvec.svg")
    texts = page.evaluate("""() => {
        const svg = document.documentElement;
        const width = svg.width.baseVal.value;
        return Array.from(svg.querySelectorAll('text')).map(t => {
            const box = t.getBBox();
            return {text: t.textContent, x: box.x, width: box.width, height: box.height,
                    svgWidth: width};
        });
    }""")
    assert [t["text"].split(" · ")[0] for t in texts] == ["eurodex", "verified"]
    for text in texts:  # drawn, and inside the badge
        assert text["width"] > 10 and text["height"] > 5
        assert text["x"] >= 0 and text["x"] + text["width"] <= text["svgWidth"]
    drawn = page.screenshot()
    page.evaluate("() => document.querySelectorAll('text').forEach("
                  "t => t.setAttribute('fill-opacity', '0'))")
    assert page.screenshot() != drawn  # the text paints pixels of its own


def test_the_entry_page_embeds_json_ld_and_snippets_and_still_works(served, page):  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(served.url + "/entry/api-cvec")

    assert page.locator("h1").inner_text().startswith("API contrôle CVEC")
    data = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert data["@type"] == "WebAPI" and data["name"].startswith("API contrôle CVEC")
    assert data["provider"]["name"].startswith("Centre national des œuvres")
    assert data["url"] == served.url + "/entry/api-cvec"
    badges = page.locator("#badge img")
    assert badges.count() == 2
    assert all(page.evaluate("img => img.complete && img.naturalWidth > 0", badges.nth(i)
                             .element_handle()) for i in range(2))
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]

    tree = HTMLParser(httpx.get(served.url + "/entry/api-cvec").text)
    html = tree.css_first("#badge-uptime-html").text()
    assert html == (f'<a href="{served.url}/entry/api-cvec"><img src="{served.url}/badge/'
                    f'api-cvec/uptime.svg" alt="eurodex uptime"></a>')
    assert tree.css_first("#badge-uptime-md").text() == (
        f"[![eurodex uptime]({served.url}/badge/api-cvec/uptime.svg)]"
        f"({served.url}/entry/api-cvec)")


def test_json_ld_cannot_close_its_script_block(harvested_store, serve):
    with harvested_store.session() as session:
        repo.entry_by_slug(session, "api-cvec").description = "</script><script>alert(1)"
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        html = httpx.get(s.url + "/entry/api-cvec").text
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "\\u003c/script\\u003e" in block.group(1)
    assert json.loads(block.group(1))["description"] == "</script><script>alert(1)"
