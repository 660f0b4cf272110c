"""Harvester for exports of other registers: a CSV file, a JSON list or JSON lines.

Each row is one API or dataset with the columns a register export usually has: ``id``,
``name``, ``type`` (API or DATASET), ``country``, URLs (``base_url``, ``spec_url``,
``docs_url``, ``homepage_url``, or one ``urls`` column whose first URL is the base URL),
``tags``, ``state`` and the owner (``institution``, ``institution_url``,
``institution_type``). An export that names its columns otherwise is read with a column
map (``columns`` in the source's configuration: eurodex name -> export column).

``state``: a row marked retired, deprecated, withdrawn or inactive is not an entry of the
register (it is skipped and counted); ``replaced_by`` names the id of the row that replaces
it, so the retired entry can point to its successor.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.themes import map_themes
from eurodex.harvest.values import absolute_http, text
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

log = logging.getLogger("eurodex.harvest")

COLUMNS = ("id", "name", "type", "country", "base_url", "spec_url", "docs_url",
           "homepage_url", "landing_page", "urls", "tags", "state", "institution",
           "institution_url", "institution_type", "replaced_by", "description", "licence",
           "contact")
ENDED_STATES = {"retired", "deprecated", "withdrawn", "inactive", "deleted", "sunset"}
INSTITUTION_TYPES = {
    "central government": InstitutionType.GOVERNMENT, "federal government":
    InstitutionType.GOVERNMENT, "government": InstitutionType.GOVERNMENT,
    "regional government": InstitutionType.REGION, "region": InstitutionType.REGION,
    "local government": InstitutionType.MUNICIPALITY, "municipality":
    InstitutionType.MUNICIPALITY, "agency": InstitutionType.AGENCY,
    "eu institution": InstitutionType.EU_INSTITUTION,
}


def _split(value: object) -> list[str]:
    if isinstance(value, list):
        return [t for t in (text(v) for v in value) if t]
    found = text(value) or ""
    if found.startswith("["):
        try:
            return _split(json.loads(found))
        except ValueError:
            pass
    return [t.strip() for t in re.split(r"[;,|]|\s{1,}(?=https?://)", found) if t.strip()]


class RegisterExportHarvester:
    """Rows of another register's export, as entries."""

    source_format = "register-export"

    def __init__(self, *, slug: str, name: str, path: Path, trusted: bool = False,
                 url: str | None = None, columns: Mapping[str, str] | None = None,
                 country: str | None = None) -> None:
        if not path.is_file():
            raise HarvestError(f"{name}: {path} is not an export file")
        unknown = set(columns or {}) - set(COLUMNS)
        if unknown:
            raise HarvestError(f"{name}: unknown column names {sorted(unknown)}; "
                               f"known: {', '.join(COLUMNS)}")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path
        self.columns = {c: (columns or {}).get(c, c) for c in COLUMNS}
        self.country = country
        self.skipped: dict[str, int] = {}

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())

    def rows(self) -> Iterator[tuple[str, object]]:
        suffix = self.path.suffix.lower()
        if suffix == ".csv":
            with self.path.open(encoding="utf-8", newline="") as handle:
                for number, row in enumerate(csv.DictReader(handle), start=2):
                    yield f"line {number}", row
        elif suffix in (".jsonl", ".ndjson"):
            with self.path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            yield f"line {number}", json.loads(line)
                        except ValueError as exc:
                            yield f"line {number}", RecordError(self.source_name,
                                                                f"line {number}", str(exc))
        else:
            try:
                items = json.loads(self.path.read_text("utf-8"))
            except ValueError as exc:
                raise HarvestError(f"{self.path}: not JSON: {exc}") from exc
            if isinstance(items, dict):
                items = items.get("entries") or items.get("data") or items.get("results")
            if not isinstance(items, list):
                raise HarvestError(f"{self.path}: no list of rows in this JSON export")
            for index, item in enumerate(items):
                yield f"[{index}]", item

    def candidates(self) -> Iterator[Candidate | RecordError]:
        for where, row in self.rows():
            if isinstance(row, RecordError):
                yield row
                continue
            if not isinstance(row, dict):
                yield RecordError(self.source_name, where, "row is not an object")
                continue
            item = self.row(where, row)
            if item is not None:
                yield item
        if self.skipped:
            log.info("%s: skipped %s", self.source_name, self.skipped)

    def _get(self, row: dict, name: str) -> object:
        return row.get(self.columns[name])

    def row(self, where: str, row: dict) -> Candidate | RecordError | None:
        record = text(self._get(row, "id")) or where
        name = text(self._get(row, "name"))
        if not name:
            return RecordError(self.source_name, record, "row has no name")
        state = (text(self._get(row, "state")) or "").lower()
        replaced_by = text(self._get(row, "replaced_by"))
        if state in ENDED_STATES and not replaced_by:
            self.skipped[f"state {state}"] = self.skipped.get(f"state {state}", 0) + 1
            return None
        urls = [u for u in (absolute_http(u) for u in _split(self._get(row, "urls"))) if u]
        kind_word = (text(self._get(row, "type")) or "").upper()
        kind = Kind.DATASET if kind_word in ("DATASET", "DATA") else Kind.API
        fields: dict[str, FieldValue] = {"name": FieldValue(name)}
        for column in ("base_url", "spec_url", "docs_url", "homepage_url", "landing_page"):
            if value := absolute_http(self._get(row, column)):
                fields[column] = FieldValue(value)
        if urls and kind is Kind.API and "base_url" not in fields:
            fields["base_url"] = FieldValue(urls[0], M.INFERRED)
        if urls and kind is Kind.DATASET and "landing_page" not in fields:
            fields["landing_page"] = FieldValue(urls[0], M.INFERRED)
        for column in ("description", "licence", "contact"):
            if value := text(self._get(row, column)):
                fields[column] = FieldValue(value)
        country = text(self._get(row, "country")) or self.country
        if country:
            fields["country"] = FieldValue(country.upper()[:2])
        if tags := _split(self._get(row, "tags")):
            fields["tags"] = FieldValue(tags)
            topics, _ = map_themes(tags)
            if topics:
                fields["topics"] = FieldValue(topics, M.INFERRED)
        institution = self.institution(row, country)
        candidate = Candidate(record_id=record, record_url=None, kind=kind, fields=fields,
                              institution_key=institution.key if institution else None,
                              institution=institution, replaced_by=replaced_by)
        if state in ENDED_STATES:
            candidate.extras["retired"] = True
        return candidate

    def institution(self, row: dict, country: str | None) -> InstitutionRecord | None:
        name = text(self._get(row, "institution"))
        if not name or not country:
            return None
        label = text(self._get(row, "institution_type")) or ""
        type_ = INSTITUTION_TYPES.get(label.lower(), InstitutionType.OTHER_PUBLIC)
        fields = {"name": FieldValue(name), "country": FieldValue(country.upper()[:2]),
                  "type": FieldValue(type_.value, M.INFERRED)}
        if label:
            fields["type_label"] = FieldValue(label)
        if home := absolute_http(self._get(row, "institution_url")):
            fields["homepage_url"] = FieldValue(home)
        return InstitutionRecord(key=f"{name} {country.upper()[:2]}", record_url=None,
                                 fields=fields)
