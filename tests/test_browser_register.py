"""The register in a real browser: Debian's Chromium driven by Playwright, no JavaScript needed.

The app is served by a real uvicorn on the harvested snapshot. Screenshots of the home page
and of the CVEC entry are written to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.web.app import create_app

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def served(harvested_store, serve):
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        yield s


def _shown_total(page) -> int:
    return int(page.locator('[data-testid="result-count"]').inner_text().split()[0]
               .replace(",", ""))


def test_searching_without_accents_finds_entries_titled_with_them(page, served):
    page.goto(served.url + "/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))
    page.get_by_label("Search names, descriptions, institutions and tags").fill("donnees")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=donnees"))
    titles = page.locator("li.entry h3 a").all_inner_texts()
    assert titles and any("Données" in title for title in titles), titles
    expected = httpx.get(served.url + "/api/v1/entries/search", params={"q": "données"}).json()
    assert _shown_total(page) == expected["total"] >= len(titles)


def test_a_facet_narrows_the_results_and_its_count_is_what_is_shown(page, served):
    page.goto(served.url + "/?q=donnees")
    total = _shown_total(page)
    links = page.locator('section[data-facet="topic"] li a')
    chosen = None
    for index in range(links.count()):
        link = links.nth(index)
        count = int(link.locator(".count").get_attribute("data-count"))
        if 0 < count <= 20 and count < total:
            chosen, expected = link, count
            break
    assert chosen is not None, "no topic facet small enough to see on one page"
    chosen.click()
    page.wait_for_url(re.compile(r"topic="))
    assert page.locator("li.entry").count() == expected
    assert _shown_total(page) == expected
    # The chosen value is now a link that removes the filter again.
    page.locator('section[data-facet="topic"] a.selected').click()
    page.wait_for_load_state()
    assert _shown_total(page) == total


def test_cvec_page_shows_its_schema(page, served):
    page.goto(served.url + "/entry/api-cvec")
    assert page.locator("h1").inner_text().startswith("API contrôle CVEC")
    assert page.locator("table.schema tbody tr").count() == 17
    assert page.locator("table.schema tbody tr.filterable").count() == 5
    heading = page.locator("#h-schema").inner_text()
    assert heading == "Data schema (17 fields)"
    assert page.locator('[data-testid="curl-example"]').count() == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cvec.png"))


def test_a_hostile_description_fires_nothing(harvested_store, serve, page):
    with harvested_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        entry.description = (
            "Hello <script>alert(1)</script> [click](javascript:alert(2)) "
            '<a href="javascript:alert(3)" onclick="alert(5)">raw</a> '
            "<img src=x onerror=alert(4)> [ok](https://api.gouv.fr)"
        )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        page.goto(s.url + "/entry/api-cvec")
        section = page.locator("#description")
        assert "Hello" in section.inner_text()
        for index in range(section.locator("a").count()):
            link = section.locator("a").nth(index)
            if (link.get_attribute("href") or "").startswith("https://"):
                continue  # a safe link leaves the page; it is not what is tested here
            link.click()
        page.wait_for_timeout(300)
    assert dialogs == []
    assert section.locator("script, img").count() == 0


def test_keyboard_focus_is_visible(page, served):
    page.goto(served.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    # The hash changes after the key event is handled: wait for it rather than race it.
    page.wait_for_function("location.hash === '#main'", timeout=5_000)
    assert page.url.endswith("#main")
