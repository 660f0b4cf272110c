"""Change feeds, RSS 2.0 and Atom, read with a real feed parser (feedparser)."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import httpx
import pytest
from sqlalchemy import select

from eurodex.model import CheckResult, Outcome, Status
from eurodex.settings import Settings
from eurodex.store import listings
from eurodex.store import repository as repo
from eurodex.store.events import EventKind
from eurodex.store.tables import Entry, Event
from eurodex.web.app import create_app

FEEDS = ("/api/v1/feeds/rss", "/api/v1/feeds/atom")


def _check(store, slug: str, outcome: Outcome, ms_ago: int) -> None:
    """One check, ``ms_ago`` milliseconds ago: newer than the harvest's new-entry events."""
    with store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        repo.record_check(session, entry, CheckResult(
            url=entry.base_url or "https://example.test/", method="HEAD", outcome=outcome,
            started_at=repo.now_utc() - timedelta(milliseconds=ms_ago),
            http_status=200 if outcome is Outcome.UP else 503, latency_ms=50,
            reason=None if outcome is Outcome.UP else "http_5xx"))


def _parse(served, path: str):
    response = httpx.get(served.url + path)
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return response, parsed


@pytest.fixture
def quarantined_slug(published_store) -> str:
    with published_store.session() as session:
        return session.scalar(select(Entry.slug).where(
            Entry.status == Status.QUARANTINED.value).limit(1))


def test_a_state_change_made_now_is_in_both_feeds(published_store, serve, quarantined_slug):
    # api-cvec is checked: up (UNVERIFIED -> VERIFIED), then down three times (-> FAILING).
    _check(published_store, "api-cvec", Outcome.UP, 40)
    for ms_ago in (30, 20, 10):
        _check(published_store, "api-cvec", Outcome.DOWN, ms_ago)
    # A quarantined entry changes state too, but it is not published (methodology 3).
    _check(published_store, quarantined_slug, Outcome.UP, 5)
    with published_store.session() as session:
        assert session.scalar(select(Event.id).join(Entry, Entry.id == Event.entry_id).where(
            Entry.slug == quarantined_slug, Event.kind == EventKind.STATE_CHANGE.value))

    with serve(create_app(Settings(database_url=published_store.url), published_store)) as s:
        rss_response, rss = _parse(s, FEEDS[0])
        atom_response, atom = _parse(s, FEEDS[1])

    assert rss.version == "rss20" and atom.version == "atom10"
    assert rss_response.headers["content-type"].startswith("application/rss+xml")
    assert atom_response.headers["content-type"].startswith("application/atom+xml")
    for feed in (rss, atom):
        titles = [e.title for e in feed.entries]
        # Newest first: the failure, then the recovery the first check brought.
        failing = titles.index("API contrôle CVEC (contribution de vie étudiante): "
                               "VERIFIED → FAILING")
        verified = titles.index("API contrôle CVEC (contribution de vie étudiante): "
                                "UNVERIFIED → VERIFIED")
        assert failing < verified
        item = feed.entries[failing]
        assert item.link == s.url + "/entry/api-cvec"
        assert "http_5xx" in item.summary
        assert not any(quarantined_slug in e.link for e in feed.entries)
    # One change, one id, the same in both formats.
    assert rss.entries[0].id == atom.entries[0].id


def test_new_entries_and_retirements_are_announced(published_store, serve):
    with published_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        listings.retire(session, entry, "no longer listed by api.gouv.fr")
        listings.retire(session, entry, "no longer listed by api.gouv.fr")  # news only once
    with serve(create_app(Settings(database_url=published_store.url), published_store)) as s:
        _, atom = _parse(s, FEEDS[1])

    retired = [e for e in atom.entries if e.title.endswith("retired")]
    assert [e.title for e in retired] == [
        "API contrôle CVEC (contribution de vie étudiante) retired"]
    assert "no longer listed by api.gouv.fr" in retired[0].summary
    assert any(e.title.startswith("New API: ") for e in atom.entries)
    assert any(e.tags[0].term == "new_entry" for e in atom.entries)
