"""A curator approves a quarantined entry through the web pages, in Debian's Chromium.

Driven by Playwright with ``executable_path="/usr/bin/chromium"`` (never ``playwright
install``). Without Chromium the test skips with the reason, except under CI=true, where
``scripts/test-services`` must have installed it and its absence is a failure.
"""

from __future__ import annotations

from sqlalchemy import select

from eurodex.review.curators import add_curator
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.tables import AuditLog
from eurodex.web.app import create_app

from .browsers import CHROMIUM, CHROMIUM_ARGS, sync_playwright_or_skip
from .test_review import quarantine


def test_a_curator_approves_a_quarantined_entry_in_the_browser(store, serve):
    sync_playwright = sync_playwright_or_skip()
    slug = quarantine(store)
    with store.session() as session:
        token = add_curator(session, "dana")
    app = create_app(Settings(database_url=store.url), store)
    with serve(app) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            first = page.goto(served.url + "/review")
            assert first.status == 401
            page.fill("#token", token)
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(served.url + "/review")
            assert page.inner_text('[data-testid="curator"]') == "dana"

            item = page.locator(f'li.queue-item[data-slug="{slug}"]')
            item.locator("input[name=reason]").fill("published by the agency itself")
            item.locator("button[value=approve]").click()
            page.wait_for_url(f"{served.url}/review?done={slug}")
            assert slug in page.inner_text('[data-testid="done"]')
            assert page.locator(f'li.queue-item[data-slug="{slug}"]').count() == 0

            page.goto(f"{served.url}/entry/{slug}")
            assert page.inner_text('[data-testid="admission-status"]') == "APPROVED"
            assert "curator dana approved: published by the agency itself" in page.inner_text(
                '[data-testid="admission-reason"]')
            assert "Pending review" not in page.content()
            assert "published by the agency itself" in page.inner_text(
                '[data-testid="decision"]')
        finally:
            browser.close()
    with store.session() as session:
        [log] = session.scalars(select(AuditLog)).all()
        assert (log.actor, log.action, log.to_status) == ("dana", "approve", "APPROVED")
        assert repo.entry_by_slug(session, slug).status == "APPROVED"
