"""Harvester for the Dateno / Common Data Index registry of data portals (JSON lines).

What counts as an entry: a portal's machine interface. A registry record describes one
data catalogue (its name, its site, its owner and the machine endpoints it exposes); when
the registry marks the catalogue as having an API and lists at least one endpoint that is
an API (CKAN, udata, Opendatasoft, DCAT, OGC services, SPARQL, an OpenAPI document, ...:
not a sitemap or a feed), the register gets one API entry for it: named after the
catalogue, with the best endpoint as base URL, the catalogue's site as homepage and its
owner as institution. Records of inactive catalogues, records without an API endpoint,
records whose name is a note about missing information and owners without a name are
skipped, and counted.

The file is read line by line, so a registry of any size is harvested in bounded memory.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.values import absolute_http, text
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

log = logging.getLogger("eurodex.harvest")

OWNER_TYPES = {
    "central government": InstitutionType.GOVERNMENT,
    "federal government": InstitutionType.GOVERNMENT,
    "regional government": InstitutionType.REGION,
    "local government": InstitutionType.MUNICIPALITY,
}
# Endpoint types that are not an API a program would call for data.
NOT_APIS = {"sitemap", "rss", "atom", "docs", "documentation", "arcgis:sitemap",
            "arcgis:geositemap", "arcgis:kmz", "geonetwork:site", "opensearch"}
# Which endpoint becomes the base URL: catalogue APIs first, then OGC and other services.
PREFERRED = ("openapi", "ckan:package-search", "ckan:api", "ckan", "udataapi",
             "opendatasoftapi", "opendatasoft:api", "opendatasoft", "dcatap201", "dcatap21",
             "dcatap", "dcat:jsonld", "dcat:ttl", "dcat:xml", "dcat", "pxwebapi", "socrata",
             "sparql", "ogcrecordsapi", "stacserverapi", "csw202", "csw300", "wfs200",
             "wms130", "arcgis:rest:services")


def _rank(endpoint_type: str) -> int:
    return PREFERRED.index(endpoint_type) if endpoint_type in PREFERRED else len(PREFERRED)


#: What the registry writes where it does not know the owner ("Not specified in URL", "No
#: owner name available from source.", "95"): a sentence or a number, never an institution.
PLACEHOLDER_OWNER = re.compile(r"^\s*(?:(?:not|no)\s|(?:unknown|none|n/a)\s*$)|^[\W\d_]+$",
                               re.IGNORECASE)


#: Names some records carry where their author could not find one ("I could not access the
#: provided URL directly...", "The URL provided is not an actual entry..."): skipped, counted.
PLACEHOLDER_NAME = re.compile(r"^(?:i could not|i was unable|the url provided|no information "
                              r"available|unfortunately|sorry\b)", re.IGNORECASE)


class DataPortalsHarvester:
    """One API entry per public data portal with a machine endpoint."""

    source_format = "dataportals-registry"

    def __init__(self, *, slug: str, name: str, path: Path, trusted: bool = False,
                 url: str | None = None) -> None:
        if not path.is_file():
            raise HarvestError(f"{name}: {path} is not a JSON-lines registry file")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path
        self.skipped: dict[str, int] = {}

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def candidates(self) -> Iterator[Candidate | RecordError]:
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    yield RecordError(self.source_name, f"line {number}", f"not JSON: {exc}")
                    continue
                if not isinstance(record, dict):
                    yield RecordError(self.source_name, f"line {number}", "not a JSON object")
                    continue
                item = self.portal(record, number)
                if item is not None:
                    yield item
        log.info("%s: skipped %s", self.source_name, self.skipped)

    def portal(self, record: dict, number: int) -> Candidate | RecordError | None:
        uid = text(record.get("uid")) or f"line {number}"
        name = text(record.get("name"))
        if not name:
            return RecordError(self.source_name, uid, "catalogue has no name")
        if PLACEHOLDER_NAME.search(name):
            self._skip("name is a note about missing information")
            return None
        if text(record.get("status")) not in (None, "active"):
            self._skip("catalogue not active")
            return None
        endpoints = [e for e in record.get("endpoints") or []
                     if isinstance(e, dict) and absolute_http(e.get("url"))
                     and str(e.get("type", "")).lower() not in NOT_APIS]
        if not record.get("api") or not endpoints:
            self._skip("no API endpoint")
            return None
        best = min(endpoints, key=lambda e: _rank(str(e.get("type", "")).lower()))
        owner = record.get("owner") if isinstance(record.get("owner"), dict) else {}
        institution = self.owner(owner, record)
        if institution is None:
            self._skip("owner without a name or country")
            return None
        software = (record.get("software") or {}).get("name") if isinstance(
            record.get("software"), dict) else None
        kind = text(record.get("catalog_type")) or "data catalogue"
        endpoint_type = str(best.get("type"))
        fields: dict[str, FieldValue] = {
            "name": FieldValue(name),
            "summary": FieldValue(f"Machine interface ({endpoint_type}) of the {kind.lower()} "
                                  f"{name}" + (f", run on {software}" if software else ""),
                                  M.INFERRED),
            "base_url": FieldValue(absolute_http(best["url"])),
            "country": FieldValue(institution.fields["country"].value, M.INFERRED),
            "tags": FieldValue([t for t in (kind, software) if t]),
        }
        if home := absolute_http(record.get("link")):
            fields["homepage_url"] = FieldValue(home)
        spec = next((e for e in endpoints if str(e.get("type")).lower() in
                     ("openapi", "pygeoapi:openapi")), None)
        if spec:
            fields["spec_url"] = FieldValue(absolute_http(spec["url"]))
        docs = next((e for e in record.get("endpoints") or [] if isinstance(e, dict)
                     and str(e.get("type")).lower() in ("docs", "documentation")), None)
        if docs and absolute_http(docs.get("url")):
            fields["docs_url"] = FieldValue(absolute_http(docs["url"]))
        rights = record.get("rights") if isinstance(record.get("rights"), dict) else {}
        if licence := text(rights.get("license_id")) or text(rights.get("license_url")):
            fields["licence"] = FieldValue(licence)
        if (record.get("access_mode") or []) == ["open"]:
            fields["auth_type"] = FieldValue("NONE", M.INFERRED)
        return Candidate(record_id=uid, record_url=None, kind=Kind.API, fields=fields,
                         institution_key=institution.key, institution=institution)

    def owner(self, owner: dict, record: dict) -> InstitutionRecord | None:
        name = text(owner.get("name"))
        location = owner.get("location") if isinstance(owner.get("location"), dict) else {}
        country = text((location.get("country") or {}).get("id")) if isinstance(
            location.get("country"), dict) else None
        if not country:
            coverage = record.get("coverage") or [{}]
            first = coverage[0].get("location", {}) if isinstance(coverage[0], dict) else {}
            country = text((first.get("country") or {}).get("id"))
        if not name or not country or PLACEHOLDER_OWNER.search(name):
            return None
        label = text(owner.get("type")) or ""
        type_ = OWNER_TYPES.get(label.lower())
        if type_ is None:
            type_ = (InstitutionType.EU_INSTITUTION if country == "EU"
                     else InstitutionType.OTHER_PUBLIC)
        fields = {"name": FieldValue(name), "country": FieldValue(country.upper()[:2]),
                  "type": FieldValue(type_.value, M.INFERRED), "type_label": FieldValue(label)}
        if home := absolute_http(owner.get("link")):
            fields["homepage_url"] = FieldValue(home)
        return InstitutionRecord(key=f"{name} {country}", record_url=None, fields=fields)
