"""Full verification's spec step: re-fetch the spec URL, re-capture it, record what changed.

A spec that cannot be fetched or captured today says nothing about yesterday's capture, so a
failure is recorded beside the stored schema (``refresh_error``) and never replaces it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from eurodex.model import CapturedSchema
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi
from eurodex.store import repository as repo
from eurodex.store.events import EventKind, record_event
from eurodex.store.tables import Entry
from eurodex.verify.check import Checker

log = logging.getLogger("eurodex.verify")

SPEC_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class SpecRefresh:
    """What re-fetching one spec URL gave: a capture, or the reason there is none."""

    url: str
    captured: CapturedSchema | None = None
    error: str | None = None


def is_remote(spec_url: str | None) -> bool:
    """Only http(s) specs are re-fetched; a spec shipped as a local file has nothing to fetch."""
    return bool(spec_url) and spec_url.lower().startswith(("http://", "https://"))


async def refetch_spec(checker: Checker, url: str) -> SpecRefresh:
    """Fetch ``url`` (at most 5 MiB) through the guarded client and capture it."""
    fetched = await checker.fetch(url, max_bytes=SPEC_MAX_BYTES)
    result = fetched.result
    if not fetched.ok:
        status = f"HTTP {result.http_status}" if result.http_status else result.reason
        return SpecRefresh(url, error=f"the spec could not be fetched ({status}): "
                                      f"{result.error or result.outcome.value}")
    if fetched.truncated:
        return SpecRefresh(url, error=f"the spec is larger than {SPEC_MAX_BYTES // 2**20} MiB")
    try:
        # Parsing a large YAML document takes a while: keep the event loop free meanwhile.
        captured = await asyncio.to_thread(capture_openapi, fetched.body, source=url)
    except SchemaCaptureError as exc:
        return SpecRefresh(url, error=str(exc))
    return SpecRefresh(url, captured=captured)


def _field_keys(fields: list[dict]) -> set[str]:
    """Fields by owner and name: the same name under two schemas is two fields."""
    return {f"{f['owner']}.{f['name']}" for f in fields}


def apply_spec_refresh(
    session: Session, entry: Entry, refresh: SpecRefresh, now: datetime
) -> str:
    """Store a re-capture; returns "captured", "changed", "unchanged" or "failed".

    A change of the field list the spec URL serves is announced by a schema_change event
    naming the fields added and removed. Only a previous capture of the same URL counts as
    "before": a schema captured from a shipped copy of the spec (a harvest) may differ from
    the live one without the API having changed, so replacing it is "captured", silently.
    A failure is kept in ``refresh_error`` and the schema stays as it was.
    """
    row = repo.schema_for(session, entry.id)
    if refresh.captured is None:
        if row is None:  # nothing captured before: the failure is the schema's whole story
            repo.save_schema(session, entry, captured=None, captured_from=refresh.url,
                             error=refresh.error)
            session.flush()
            row = repo.schema_for(session, entry.id)
        row.refreshed_at, row.refresh_error = now, refresh.error
        log.info("%s: spec re-fetch failed: %s", entry.slug, refresh.error)
        return "failed"

    known = row is not None and not row.error and row.captured_from == refresh.url
    before = _field_keys(row.fields) if known else set()
    repo.save_schema(session, entry, captured=refresh.captured, captured_from=refresh.url)
    session.flush()
    row = repo.schema_for(session, entry.id)
    row.refreshed_at, row.refresh_error = now, None
    after = _field_keys(row.fields)
    if not known:
        return "captured"
    if before == after:
        return "unchanged"
    record_event(session, entry.id, EventKind.SCHEMA_CHANGE, {
        "added": sorted(after - before), "removed": sorted(before - after),
        "field_count": len(after), "source": refresh.url,
    }, at=now)
    return "changed"
