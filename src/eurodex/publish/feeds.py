"""Change feeds (RSS 2.0 and Atom) from the events verification and harvests write.

New entries, state changes, schema changes and retirements, newest first. Only what the
register publishes is announced (methodology 3): events of approved entries, and the
retirement of an entry that was approved until then. Each item's id is stable (the event's
row), so a feed reader never shows one change twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from eurodex.model import Status
from eurodex.publish.links import Links
from eurodex.store.events import EventKind
from eurodex.store.tables import Entry, Event

FEED_SIZE = 100
KIND_WORDS = {"API": "API", "DATASET": "dataset"}


@dataclass(frozen=True)
class FeedItem:
    guid: str
    kind: str  # an EventKind value
    title: str
    summary: str
    link: str
    at: datetime


def _published(event: Event, entry: Entry) -> bool:
    if entry.status == Status.APPROVED.value:
        return True
    return (event.kind == EventKind.RETIRED.value
            and (event.detail or {}).get("from_status") == Status.APPROVED.value)


def recent_items(session: Session, links: Links, limit: int = FEED_SIZE) -> list[FeedItem]:
    """The ``limit`` latest published changes, newest first."""
    rows = session.execute(
        select(Event, Entry).join(Entry, Entry.id == Event.entry_id)
        .where(or_(Entry.status == Status.APPROVED.value,
                   Event.kind == EventKind.RETIRED.value))
        .order_by(Event.at.desc(), Event.id.desc()).limit(limit * 2)
    ).all()
    items = [describe(event, entry, links) for event, entry in rows if _published(event, entry)]
    return items[:limit]


def describe(event: Event, entry: Entry, links: Links) -> FeedItem:
    """One event in words a reader of the feed understands without opening the register."""
    detail = event.detail or {}
    kind = event.kind
    name = entry.name
    if kind == EventKind.NEW_ENTRY.value:
        title = f"New {KIND_WORDS.get(entry.kind, entry.kind)}: {name}"
        who = f" published by {entry.institution.name}" if entry.institution else ""
        summary = f"{name}{who} joined the register."
    elif kind == EventKind.STATE_CHANGE.value:
        before, after = detail.get("from", "?"), detail.get("to", "?")
        title = f"{name}: {before} → {after}"
        summary = f"Verification state changed from {before} to {after}"
        if detail.get("rule"):
            summary += f": {detail['rule']}"
        elif detail.get("outcome"):
            reason = f" ({detail['reason']})" if detail.get("reason") else ""
            summary += (f" after a check of {detail.get('url', 'its URL')} that was "
                        f"{detail['outcome']}{reason}")
        summary += "."
    elif kind == EventKind.SCHEMA_CHANGE.value:
        added, removed = detail.get("added", []), detail.get("removed", [])
        title = f"{name}: schema changed (+{len(added)} −{len(removed)} fields)"
        parts = []
        if added:
            parts.append("added " + ", ".join(added[:20]) + (" …" if len(added) > 20 else ""))
        if removed:
            parts.append("removed " + ", ".join(removed[:20])
                         + (" …" if len(removed) > 20 else ""))
        summary = f"The captured schema changed: {'; '.join(parts) or 'fields reordered'}."
    elif kind == EventKind.RETIRED.value:
        title = f"{name} retired"
        summary = f"Retired: {detail.get('reason', 'no longer listed by its sources')}."
    else:
        title, summary = f"{name}: {kind}", f"{kind.replace('_', ' ')}."
    page = links.entry(entry.slug)
    return FeedItem(guid=f"{page}#event-{event.id}", kind=kind, title=title, summary=summary,
                    link=page, at=event.at)


def _generator(items: list[FeedItem], links: Links, self_url: str,
               generated_at: datetime) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title("eurodex: changes to the register")
    feed.subtitle("New entries, verification state changes, schema changes and retirements "
                  "in the register of official European public-sector APIs and datasets.")
    # RSS has room for one <link>, which feedgen fills with the last one given: the register.
    feed.link(href=self_url, rel="self")
    feed.link(href=links.home, rel="alternate")
    feed.author({"name": "eurodex"})
    feed.language("en")
    feed.updated(items[0].at if items else generated_at)
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(item.guid)
        entry.guid(item.guid, permalink=False)
        entry.title(item.title)
        entry.link(href=item.link)
        entry.summary(item.summary)
        entry.category(term=item.kind)
        entry.published(item.at)
        entry.updated(item.at)
    return feed


def rss(items: list[FeedItem], links: Links, self_url: str, generated_at: datetime) -> bytes:
    return _generator(items, links, self_url, generated_at).rss_str(pretty=True)


def atom(items: list[FeedItem], links: Links, self_url: str, generated_at: datetime) -> bytes:
    return _generator(items, links, self_url, generated_at).atom_str(pretty=True)
