"""Every place that shows an entry's state shows the effective one (methodology 4).

An entry stored as VERIFIED whose last success is older than the staleness threshold is
STALE, even before the scheduler has written it: the page's record strip, the JSON API (one
entry and the listing), the institution page and ``eurodex show`` must all say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import httpx
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.verify.state import STALE_AFTER
from eurodex.web.app import create_app


def _verified_long_ago(store, slug: str) -> str:
    """Store ``slug`` as VERIFIED with its last success just past the threshold."""
    with store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        then = repo.now_utc() - STALE_AFTER - timedelta(hours=1)
        entry.state, entry.last_check_at, entry.last_success_at = "VERIFIED", then, then
        entry.last_outcome, entry.consecutive_failures = "UP", 0
        return entry.institution.slug


def test_a_stale_verified_entry_reads_stale_everywhere(harvested_store, serve):
    institution = _verified_long_ago(harvested_store, "api-cvec")
    with harvested_store.session() as session:
        assert repo.entry_by_slug(session, "api-cvec").state == "VERIFIED"  # as stored

    app = create_app(Settings(database_url=harvested_store.url), harvested_store)
    with serve(app) as served:
        page = HTMLParser(httpx.get(f"{served.url}/entry/api-cvec").text)
        strip = page.css_first(".record-strip .state")
        assert strip.text() == "STALE" and "state-stale" in strip.attributes["class"]
        detail = httpx.get(f"{served.url}/api/v1/entries/api-cvec").json()
        assert detail["state"] == "STALE"
        listed = httpx.get(f"{served.url}/api/v1/entries", params={"limit": 500}).json()
        (summary,) = [e for e in listed["entries"] if e["slug"] == "api-cvec"]
        assert summary["state"] == "STALE"
        inst_page = HTMLParser(httpx.get(f"{served.url}/institution/{institution}").text)
        item = inst_page.css_first('li.entry[data-slug="api-cvec"] .state')
        assert item.text() == "STALE"

    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env["EURODEX_DATABASE_URL"] = harvested_store.url
    env["COLUMNS"] = "200"
    shown = subprocess.run([sys.executable, "-m", "eurodex.cli", "show", "api-cvec"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "Register record · API · FR · GOVERNMENT · STALE" in shown.stdout


def test_a_recent_success_stays_verified(harvested_store, serve):
    with harvested_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        now = repo.now_utc()
        entry.state, entry.last_check_at, entry.last_success_at = "VERIFIED", now, now
    app = create_app(Settings(database_url=harvested_store.url), harvested_store)
    with serve(app) as served:
        page = HTMLParser(httpx.get(f"{served.url}/entry/api-cvec").text)
        assert page.css_first(".record-strip .state").text() == "VERIFIED"
        assert httpx.get(f"{served.url}/api/v1/entries/api-cvec").json()["state"] == "VERIFIED"
