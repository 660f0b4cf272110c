"""Harvester for udata portals (data.gouv.fr and others): datasets and dataservices.

Live: ``{api}datasets/`` and ``{api}dataservices/`` are paged envelopes (``data``,
``next_page``, ``total``), followed page by page. A dataset's ``resources`` is a list in the
API v1 shape and a paged link (``{"href": ..., "total": ...}``) in the v2 shape; the link is
followed page by page too. Folder: every ``*.json`` file, read by its shape (a paged
envelope, a dataset, a dataservice, an organisation); other udata objects (topics, single
resources) are not entries and are left aside.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from eurodex.harvest.datasets import DatasetFacts, dataset_candidate
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.limits import load_json, read_document
from eurodex.harvest.records import (
    Candidate,
    DistributionRecord,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.themes import map_themes
from eurodex.harvest.values import absolute_http, byte_size, iso_date, items, strings, text
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

log = logging.getLogger("eurodex.harvest")

MAX_PAGES = 100_000
PAGE_SIZE = 100
# udata's access types, as the register's auth codes.
ACCESS_TYPES = {"open": "NONE", "open_with_account": "ACCOUNT", "restricted": "RESTRICTED"}


def _is_envelope(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("data"), list)


def _is_dataservice(item: dict) -> bool:
    return "base_api_url" in item or "machine_documentation_url" in item


def _is_dataset(item: dict) -> bool:
    return "resources" in item and "title" in item


class UdataHarvester:
    """Datasets (with their resources as distributions) and dataservices (APIs)."""

    source_format = "udata"

    def __init__(
        self,
        *,
        slug: str,
        name: str,
        path: Path | None = None,
        url: str | None = None,
        fetcher: PageFetcher | None = None,
        trusted: bool = False,
        country: str | None = "FR",
        datasets_url: str | None = None,
        dataservices_url: str | None = None,
    ) -> None:
        if path is None and url is None:
            raise HarvestError(f"{name}: neither a snapshot path nor a URL to harvest")
        if path is not None and not path.is_dir():
            raise HarvestError(f"{name}: {path} is not a folder of udata responses")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path
        api = url.rstrip("/") + "/" if url else ""
        self.datasets_url = datasets_url or (f"{api}datasets/?page_size={PAGE_SIZE}" if url
                                             else None)
        self.dataservices_url = dataservices_url or (
            f"{api}dataservices/?page_size={PAGE_SIZE}" if url else None)
        self.fetcher = fetcher
        self.country = country
        self.pages_read = 0

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        if self.path is None:
            return
        for path in sorted(self.path.glob("*.json")):
            document = _load(path)
            is_org = isinstance(document, dict) and (
                document.get("class") == "Organization" or "members" in document)
            if is_org and (record := self.organisation(document)):
                yield record

    def candidates(self) -> Iterator[Candidate | RecordError]:
        if self.path is not None:
            yield from self._from_folder()
        else:
            yield from self._from_portal()

    # -- folder ----------------------------------------------------------------------------

    def _from_folder(self) -> Iterator[Candidate | RecordError]:
        for path in sorted(self.path.glob("*.json")):
            document = _load(path)
            if document is None:
                yield RecordError(self.source_name, path.name, "not JSON")
                continue
            items = document["data"] if _is_envelope(document) else [document]
            for item in items:
                if isinstance(item, dict):
                    yield from self._item(item, None)

    def _item(self, item: dict, fetcher: PageFetcher | None) -> Iterator[Candidate | RecordError]:
        if _is_dataservice(item):
            yield self.dataservice(item)
        elif _is_dataset(item):
            yield self.dataset(item, fetcher)

    # -- live ------------------------------------------------------------------------------

    def _pages(self, fetcher: PageFetcher, url: str | None) -> Iterator[dict]:
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            page = fetcher.json(url)
            if not _is_envelope(page):
                raise HarvestError(f"{url}: not a udata page (no data list)")
            self.pages_read += 1
            for item in page["data"]:
                if isinstance(item, dict):
                    yield item
            url = text(page.get("next_page"))

    def _from_portal(self) -> Iterator[Candidate | RecordError]:
        fetcher = self.fetcher or PageFetcher()
        try:
            for item in self._pages(fetcher, self.datasets_url):
                yield from self._item(item, fetcher)
            for item in self._pages(fetcher, self.dataservices_url):
                yield from self._item(item, fetcher)
        finally:
            if self.fetcher is None:
                fetcher.close()

    # -- records ---------------------------------------------------------------------------

    def organisation(self, org: object) -> InstitutionRecord | None:
        if not isinstance(org, dict) or not text(org.get("name")):
            return None
        badges = {text(b.get("kind")) for b in items(org.get("badges")) if isinstance(b, dict)}
        fields = {
            "name": FieldValue(text(org["name"])),
            "country": FieldValue(self.country or "FR", M.INFERRED),
            # udata marks public bodies with the "public-service" badge; the kind of body
            # (ministry, agency, town) is not in the record.
            "type": FieldValue(InstitutionType.OTHER_PUBLIC.value, M.INFERRED),
        }
        if acronym := text(org.get("acronym")):
            fields["acronym"] = FieldValue(acronym)
        if page := absolute_http(org.get("url")) or absolute_http(org.get("page")):
            fields["homepage_url"] = FieldValue(page)
        if "public-service" not in badges:
            log.info("%s: organisation %s has no public-service badge", self.source_name,
                     org.get("name"))
        return InstitutionRecord(key=text(org.get("slug")) or text(org["name"]),
                                 record_url=absolute_http(org.get("page")), fields=fields)

    def _resources(self, dataset: dict, fetcher: PageFetcher | None) -> list[dict]:
        resources = dataset.get("resources")
        if isinstance(resources, list):
            return [r for r in resources if isinstance(r, dict)]
        if isinstance(resources, dict) and fetcher is not None and resources.get("href"):
            found = []
            for item in self._pages(fetcher, str(resources["href"])):
                found.append(item.get("resource", item))
            return found
        return []

    def dataset(self, item: dict, fetcher: PageFetcher | None) -> Candidate | RecordError:
        org = item.get("organization") if isinstance(item.get("organization"), dict) else None
        temporal = item.get("temporal_coverage") or {}
        spatial = item.get("spatial") or {}
        zones = strings(spatial.get("zones")) if isinstance(spatial, dict) else []
        granularity = text(spatial.get("granularity")) if isinstance(spatial, dict) else None
        contacts = [c for c in items(item.get("contact_points")) if isinstance(c, dict)]
        contact = next((text(c.get("email")) or text(c.get("contact_form"))
                        for c in contacts if c), None)
        distributions = [
            DistributionRecord(url=url, format=text(r.get("format")),
                               media_type=text(r.get("mime")),
                               byte_size=byte_size(r.get("filesize")), title=text(r.get("title")))
            for r in self._resources(item, fetcher)
            if (url := text(r.get("url")) or text(r.get("latest")))  # a file with no address
        ]
        facts = DatasetFacts(
            record_id=text(item.get("id")) or text(item.get("slug")) or "?",
            record_url=absolute_http(item.get("page")) or absolute_http(item.get("uri")),
            title=text(item.get("title")),
            description=text(item.get("description")),
            landing_page=absolute_http(item.get("page")),
            licence=text(item.get("license")),
            contact=contact,
            country=self.country,
            themes=strings(item.get("tags")),
            keywords=strings(item.get("tags")),
            temporal_start=iso_date(temporal.get("start")) if isinstance(temporal, dict) else None,
            temporal_end=iso_date(temporal.get("end")) if isinstance(temporal, dict) else None,
            spatial=", ".join(zones) or granularity,
            frequency=text(item.get("frequency")),
            last_modified=iso_date(item.get("last_update") or item.get("last_modified")),
            publisher=text(org.get("name")) if org else None,
            distributions=distributions,
        )
        candidate = dataset_candidate(facts, self.source_name)
        if isinstance(candidate, Candidate) and org:
            candidate.institution = self.organisation(org)
            candidate.institution_key = candidate.institution.key if candidate.institution \
                else None
        return candidate

    def dataservice(self, item: dict) -> Candidate | RecordError:
        record = text(item.get("id")) or text(item.get("slug")) or "?"
        title = text(item.get("title"))
        if not title:
            return RecordError(self.source_name, record, "dataservice has no title")
        fields: dict[str, FieldValue] = {"name": FieldValue(title)}
        simple = {
            "description": text(item.get("description")),
            "base_url": absolute_http(item.get("base_api_url")),
            "spec_url": absolute_http(item.get("machine_documentation_url")),
            "docs_url": absolute_http(item.get("technical_documentation_url"))
            or absolute_http(item.get("business_documentation_url")),
            "rate_limit": text(item.get("rate_limiting")),
            "licence": text(item.get("license")),
            "last_modified": iso_date(item.get("metadata_modified_at")),
        }
        fields.update({k: FieldValue(v) for k, v in simple.items() if v})
        if page := absolute_http(item.get("self_web_url")):
            fields["homepage_url"] = FieldValue(page, M.INFERRED)
        if auth := ACCESS_TYPES.get(text(item.get("access_type")) or ""):
            fields["auth_type"] = FieldValue(auth, M.INFERRED)
        if self.country:
            fields["country"] = FieldValue(self.country, M.INFERRED)
        if tags := strings(item.get("tags")):
            fields["tags"] = FieldValue(tags)
            topics, _ = map_themes(tags)
            if topics:
                fields["topics"] = FieldValue(topics, M.INFERRED)
        contacts = [c for c in items(item.get("contact_points")) if isinstance(c, dict)]
        if contact := next((text(c.get("email")) for c in contacts if text(c.get("email"))),
                           None):
            fields["contact"] = FieldValue(contact)
        org = self.organisation(item.get("organization"))
        return Candidate(
            record_id=record,
            record_url=absolute_http(item.get("self_web_url")),
            kind=Kind.API,
            fields=fields,
            institution_key=org.key if org else None,
            institution=org,
        )


def _load(path: Path) -> object | None:
    try:
        return load_json(read_document(path))
    except ValueError:  # not JSON, too large or nested too deeply
        return None
