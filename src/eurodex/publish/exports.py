"""Bulk exports of the approved register (JSON and CSV), and dated snapshots with changelogs.

The web app streams the same documents that ``eurodex export DIR`` writes to disk, entry by
entry. A snapshot is written under a temporary name and renamed when complete, so a crash
never leaves half a snapshot for the next changelog to compare against.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from eurodex.publish.links import Links
from eurodex.publish.register import Published

AXES = ("officialness", "availability", "metadata_completeness", "licence_clarity",
        "agent_readiness")
CSV_COLUMNS = (
    "slug", "kind", "name", "summary", "country", "institution_slug", "institution_name",
    "institution_type", "topics", "tags", "base_url", "docs_url", "spec_url", "homepage_url",
    "landing_page", "contact", "licence", "licence_id", "auth_type", "state", "last_check_at",
    "last_success_at", "uptime_30d", "composite", "tier", *AXES, "page_url", "updated_at",
)
# A cell that starts like a formula is run by spreadsheet programs; harvested text must not.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_record(item: Published, links: Links) -> dict:
    """One approved entry as the JSON export shows it (``web.exports.ExportEntry``)."""
    entry, inst, score = item.entry, item.institution, item.score
    return {
        "slug": entry.slug,
        "kind": entry.kind,
        "name": entry.name,
        "summary": entry.summary,
        "description": entry.description,
        "country": entry.country,
        "institution": {"slug": inst.slug, "name": inst.name, "type": inst.type,
                        "country": inst.country} if inst else None,
        "topics": list(entry.topics or []),
        "tags": [str(t) for t in entry.tags or []],
        "base_url": entry.base_url,
        "docs_url": entry.docs_url,
        "spec_url": entry.spec_url,
        "homepage_url": entry.homepage_url,
        "landing_page": entry.landing_page,
        "contact": entry.contact,
        "licence": entry.licence,
        "licence_id": entry.licence_id,
        "auth_type": entry.auth_type,
        "state": item.state,
        "last_check_at": _time(entry.last_check_at),
        "last_success_at": _time(entry.last_success_at),
        "uptime_30d": round(item.uptime_30d, 2) if item.uptime_30d is not None else None,
        "score": {"composite": score.composite, "tier": score.tier,
                  **{axis: getattr(score, axis) for axis in AXES}} if score else None,
        "page_url": links.entry(entry.slug),
        "api_url": links.entry_json(entry.slug),
        "badge_url": links.badge(entry.slug),
        "updated_at": entry.updated_at.isoformat(),
    }


def _csv_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(record: dict) -> list:
    inst = record["institution"] or {}
    score = record["score"] or {}
    values = {
        **record,
        "institution_slug": inst.get("slug"), "institution_name": inst.get("name"),
        "institution_type": inst.get("type"), "topics": ";".join(record["topics"]),
        "tags": ";".join(record["tags"]), "composite": score.get("composite"),
        "tier": score.get("tier"), **{axis: score.get(axis) for axis in AXES},
    }
    return [_csv_safe(values[column]) for column in CSV_COLUMNS]


def json_chunks(items: Iterable[Published], links: Links, generated_at: datetime
                ) -> Iterator[str]:
    """The JSON export (``web.exports.EntriesExport``), one entry per chunk."""
    yield ('{"generated_at": ' + json.dumps(generated_at.isoformat())
           + ', "methodology": ' + json.dumps(links.methodology) + ', "entries": [\n')
    count = 0
    for item in items:
        yield ("" if count == 0 else ",\n") + json.dumps(entry_record(item, links),
                                                        ensure_ascii=False)
        count += 1
    yield f'\n], "count": {count}}}\n'


def csv_chunks(items: Iterable[Published], links: Links) -> Iterator[str]:
    """The CSV export: a header line, then one line per entry (lists joined with ``;``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(csv_row(entry_record(item, links)))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- dated snapshots and their changelog ----------------------------------------------------

SNAPSHOT_PREFIX = "entries-"


@dataclass
class Changelog:
    """What changed between two snapshots, by entry slug."""

    previous: str | None  # the earlier snapshot's file name, None for the first one
    added: list[dict] = field(default_factory=list)  # slug, name
    removed: list[dict] = field(default_factory=list)  # slug, name
    state_changes: list[dict] = field(default_factory=list)  # slug, name, from, to

    def as_dict(self) -> dict:
        return {"previous": self.previous, "added": self.added, "removed": self.removed,
                "state_changes": self.state_changes}

    def markdown(self, snapshot: str, total: int) -> str:
        lines = [f"# eurodex changelog: {snapshot}", ""]
        if self.previous is None:
            lines += [f"First snapshot: {total} approved entries.", ""]
            return "\n".join(lines)
        lines += [f"Against {self.previous}: {len(self.added)} added, {len(self.removed)} "
                  f"removed, {len(self.state_changes)} state changes; {total} entries now.", ""]
        for title, rows, line in (
            ("Added", self.added, lambda r: f"- `{r['slug']}` {r['name']}"),
            ("Removed", self.removed, lambda r: f"- `{r['slug']}` {r['name']}"),
            ("State changes", self.state_changes,
             lambda r: f"- `{r['slug']}` {r['name']}: {r['from']} → {r['to']}"),
        ):
            if rows:
                lines += [f"## {title}", "", *map(line, rows), ""]
        return "\n".join(lines)


def compare(previous: dict[str, dict], current: dict[str, dict],
            previous_name: str | None) -> Changelog:
    """Added, removed and state changes between two ``{slug: record}`` maps, by slug."""
    log = Changelog(previous=previous_name)
    for slug in sorted(current.keys() - previous.keys()):
        log.added.append({"slug": slug, "name": current[slug]["name"]})
    for slug in sorted(previous.keys() - current.keys()):
        log.removed.append({"slug": slug, "name": previous[slug]["name"]})
    for slug in sorted(current.keys() & previous.keys()):
        before, after = previous[slug].get("state"), current[slug].get("state")
        if before != after:
            log.state_changes.append({"slug": slug, "name": current[slug]["name"],
                                      "from": before, "to": after})
    return log


def latest_snapshot(folder: Path) -> Path | None:
    """The newest complete snapshot in ``folder`` (names sort in time order)."""
    names = sorted(p for p in folder.glob(f"{SNAPSHOT_PREFIX}*.json") if p.is_file())
    return names[-1] if names else None


def _records_by_slug(path: Path) -> dict[str, dict]:
    """The previous snapshot's entries; read whole, as a changelog needs all of them."""
    with path.open(encoding="utf-8") as handle:
        document = json.load(handle)
    return {record["slug"]: {"name": record["name"], "state": record.get("state")}
            for record in document.get("entries", [])}


class _AtomicFile:
    """A file written under ``NAME.partial`` and renamed to ``NAME`` only once complete."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.handle = self.partial.open("w", encoding="utf-8", newline="")

    def write(self, text: str) -> None:
        self.handle.write(text)

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        self.partial.replace(self.path)

    def abandon(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


@dataclass(frozen=True)
class SnapshotResult:
    snapshot: Path
    csv: Path
    changelog: Path
    changelog_json: Path
    total: int
    changes: Changelog


def write_snapshot(items: Iterable[Published], folder: Path, links: Links,
                   generated_at: datetime) -> SnapshotResult:
    """Write the dated snapshot (JSON and CSV, in one pass) and its changelog.

    The changelog compares with the newest snapshot already in ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest_snapshot(folder)
    stamp = generated_at.strftime("%Y-%m-%dT%H%M%S.%fZ")
    paths = {name: folder / name for name in (
        f"{SNAPSHOT_PREFIX}{stamp}.json", f"{SNAPSHOT_PREFIX}{stamp}.csv",
        f"changelog-{stamp}.md", f"changelog-{stamp}.json")}
    if any(path.exists() for path in paths.values()):
        raise FileExistsError(f"a snapshot stamped {stamp} is already in {folder}")
    snapshot, table, changelog, changelog_json = paths.values()
    current: dict[str, dict] = {}  # slug, name and state only: all the changelog needs
    files = [_AtomicFile(snapshot), _AtomicFile(table)]
    try:
        json_file, csv_file = files
        writer = csv.writer(csv_file, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        json_file.write('{"generated_at": ' + json.dumps(generated_at.isoformat())
                        + ', "methodology": ' + json.dumps(links.methodology)
                        + ', "entries": [\n')
        for item in items:
            record = entry_record(item, links)
            json_file.write(("" if not current else ",\n")
                            + json.dumps(record, ensure_ascii=False))
            writer.writerow(csv_row(record))
            current[record["slug"]] = {"name": record["name"], "state": record["state"]}
        json_file.write(f'\n], "count": {len(current)}}}\n')
    except BaseException:
        for file in files:
            file.abandon()
        raise
    for file in files:
        file.commit()
    # The first snapshot of a folder has nothing to compare with: its changelog says so.
    changes = (compare(_records_by_slug(previous), current, previous.name) if previous
               else Changelog(previous=None))
    summary = {"snapshot": snapshot.name, "generated_at": generated_at.isoformat(),
               "total": len(current), **changes.as_dict()}
    for path, text in ((changelog_json, json.dumps(summary, ensure_ascii=False, indent=1)),
                       (changelog, changes.markdown(snapshot.name, len(current)))):
        file = _AtomicFile(path)
        file.write(text + "\n")
        file.commit()
    return SnapshotResult(snapshot, table, changelog, changelog_json, len(current), changes)
