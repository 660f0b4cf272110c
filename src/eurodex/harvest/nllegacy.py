"""Harvester for the old developer.overheid.nl catalogue: one JSON file per API.

The format drifted while it was in use (``api_type`` is ``rest_json``, ``REST/JSON`` or
``unknown``; environments are named ``production`` or ``Productie``; some files have no
contact), so each field is read defensively and the production environment is preferred.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.themes import map_themes
from eurodex.harvest.values import absolute_http, strings, text
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

PRODUCTION = {"production", "productie"}


def _environment(environments: object) -> dict:
    envs = [e for e in environments or [] if isinstance(e, dict)] if isinstance(
        environments, list) else []
    return next((e for e in envs if str(e.get("name", "")).lower() in PRODUCTION),
                envs[0] if envs else {})


class NlLegacyHarvester:
    """APIs of the file-per-API developer.overheid.nl catalogue."""

    source_format = "nl-developer-overheid-legacy"

    def __init__(self, *, slug: str, name: str, path: Path, trusted: bool = True,
                 url: str | None = None) -> None:
        if not path.is_dir():
            raise HarvestError(f"{name}: {path} is not a folder of API files")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())

    def candidates(self) -> Iterator[Candidate | RecordError]:
        for path in sorted(self.path.glob("*.json")):
            try:
                item = json.loads(path.read_text("utf-8"))
            except ValueError as exc:
                yield RecordError(self.source_name, path.name, f"not JSON: {exc}")
                continue
            yield self.api(path.stem, item)

    def api(self, record: str, item: object) -> Candidate | RecordError:
        if not isinstance(item, dict):
            return RecordError(self.source_name, record, "not a JSON object")
        title = text(item.get("service_name"))
        owner = text(item.get("organization_name"))
        if not title:
            return RecordError(self.source_name, record, "API has no service_name")
        env = _environment(item.get("environments"))
        contact = item.get("contact") if isinstance(item.get("contact"), dict) else {}
        fields: dict[str, FieldValue] = {"name": FieldValue(title),
                                         "country": FieldValue("NL", M.INFERRED)}
        simple = {
            "description": text(item.get("description")),
            "base_url": absolute_http(env.get("api_url")),
            "spec_url": absolute_http(env.get("specification_url")),
            "docs_url": absolute_http(env.get("documentation_url")),
            "contact": text(contact.get("email")) or absolute_http(contact.get("url")),
        }
        fields.update({k: FieldValue(v) for k, v in simple.items() if v})
        if tags := strings(item.get("tags")):
            fields["tags"] = FieldValue(tags)
            topics, _ = map_themes(tags)
            if topics:
                fields["topics"] = FieldValue(topics, M.INFERRED)
        institution = None
        if owner:
            institution = InstitutionRecord(key=owner, record_url=None, fields={
                "name": FieldValue(owner), "country": FieldValue("NL", M.INFERRED),
                "type": FieldValue(InstitutionType.OTHER_PUBLIC.value, M.INFERRED)})
        return Candidate(record_id=record, record_url=None, kind=Kind.API, fields=fields,
                         institution_key=owner, institution=institution)
