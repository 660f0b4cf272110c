"""Harvester for CKAN portals: the action API live, or a folder of its JSON responses.

Live: ``license_list`` once (to resolve licence ids to the portal's own licence records),
then ``package_search`` page after page with ``start`` and ``rows``. CKAN caps ``rows``
(1,000 by default, ``ckan.search.rows_max``), so the harvest never asks for more than one
page at a time and moves ``start`` by what each page returned, until ``count`` is reached
or a page comes back empty. Results are sorted by id so a page boundary is stable.

Folder: every ``*.json`` file, read by its shape: a ``package_search`` envelope, a
``package_show`` envelope or a bare package dict, ``license_list``, and ckanext-dcat's
``dcat_dataset_show`` (an RDF document inside JSON, read with the DCAT-AP reader).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlencode

from eurodex.harvest.datasets import DatasetFacts, dataset_candidate
from eurodex.harvest.dcat_extract import DcatReader
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.limits import load_json, read_document
from eurodex.harvest.rdf import Languages, parse_graph
from eurodex.harvest.records import (
    Candidate,
    DistributionRecord,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.values import absolute_http, byte_size, iso_date, items, strings, text
from eurodex.score.licences import normalise_licence

log = logging.getLogger("eurodex.harvest")

DEFAULT_ROWS = 1000
# Package types that are not datasets: GovData lists its harvest sources as packages.
NOT_DATASETS = {"harvest": "a harvest source (a catalogue), not a dataset"}


def _extras(package: dict) -> dict[str, str]:
    """CKAN extras as a dict, whether the portal sends a list of pairs or a dict."""
    extras = package.get("extras") or {}
    if isinstance(extras, list):
        return {str(e.get("key")): e.get("value") for e in extras if isinstance(e, dict)}
    return dict(extras) if isinstance(extras, dict) else {}


def _json_value(value: object) -> object:
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return load_json(value)
        except ValueError:
            return value
    return value


class CkanHarvester:
    """CKAN datasets (packages) with their resources as distributions."""

    source_format = "ckan"

    def __init__(
        self,
        *,
        slug: str,
        name: str,
        path: Path | None = None,
        url: str | None = None,
        fetcher: PageFetcher | None = None,
        trusted: bool = False,
        country: str | None = None,
        languages: Sequence[str] = ("en",),
        rows: int = DEFAULT_ROWS,
        site_url: str | None = None,
    ) -> None:
        if path is None and url is None:
            raise HarvestError(f"{name}: neither a snapshot path nor a URL to harvest")
        if path is not None and not path.is_dir():
            raise HarvestError(f"{name}: {path} is not a folder of CKAN responses")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path
        self.api = url.rstrip("/") + "/" if url else None
        self.fetcher = fetcher
        self.country = country
        self.rows = rows
        if site_url is None and url and "/api/" in url:
            site_url = url.split("/api/", 1)[0]
        self.site_url = (site_url or "").rstrip("/") or None
        self.licences: dict[str, dict] = {}
        self.dcat = DcatReader(Languages(languages), name)
        self.skipped: list[tuple[str, str]] = []
        self.pages_read = 0

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())  # the organisation comes with each package

    def candidates(self) -> Iterator[Candidate | RecordError]:
        if self.path is not None:
            yield from self._from_folder()
        else:
            yield from self._from_portal()

    # -- live ------------------------------------------------------------------------------

    def _action(self, fetcher: PageFetcher, action: str, **params: object) -> object:
        url = f"{self.api}{action}" + (f"?{urlencode(params)}" if params else "")
        envelope = fetcher.json(url)
        if not isinstance(envelope, dict) or not envelope.get("success"):
            error = envelope.get("error") if isinstance(envelope, dict) else None
            raise HarvestError(f"{url}: CKAN said the call failed: {error or envelope!r:.200}")
        return envelope.get("result")

    def _from_portal(self) -> Iterator[Candidate | RecordError]:
        fetcher = self.fetcher or PageFetcher()
        try:
            try:
                self.remember_licences(self._action(fetcher, "license_list"))
            except HarvestError as exc:  # licences help; a portal without the call still works
                log.warning("%s: licence list not read: %s", self.source_name, exc)
            start = 0
            while True:
                result = self._action(fetcher, "package_search", q="*:*", sort="id asc",
                                      rows=self.rows, start=start)
                if not isinstance(result, dict):
                    raise HarvestError(f"{self.api}package_search: the result is not an "
                                       "object with results and count")
                packages = items(result.get("results"))
                count = byte_size(result.get("count")) or 0
                self.pages_read += 1
                for package in packages:
                    if (item := self.package(package)) is not None:
                        yield item
                start += len(packages)
                if not packages or start >= count:
                    break
        finally:
            if self.fetcher is None:
                fetcher.close()

    # -- folder ----------------------------------------------------------------------------

    def _from_folder(self) -> Iterator[Candidate | RecordError]:
        files = sorted(self.path.glob("*.json"))
        documents = []
        for path in files:  # licence lists first, whatever the file order
            try:
                document = load_json(read_document(path))
            except ValueError as exc:  # not JSON, too large or nested too deeply
                yield RecordError(self.source_name, path.name, str(exc))
                continue
            result = document.get("result", document) if isinstance(document, dict) else None
            if "license_list" in str(document.get("help", "")) if isinstance(
                    document, dict) else False:
                self.remember_licences(result)
            else:
                documents.append((path, document))
        for path, document in documents:
            yield from self._document(path.name, document)

    def _document(self, name: str, document: object) -> Iterator[Candidate | RecordError]:
        help_text = str(document.get("help", "")) if isinstance(document, dict) else ""
        result = document.get("result", document) if isinstance(document, dict) else document
        if "dcat_dataset_show" in help_text and isinstance(result, str):
            rdf_format = "json-ld" if result.lstrip().startswith("{") else "xml"
            try:
                graph = parse_graph(result, rdf_format)
            except ValueError as exc:
                yield RecordError(self.source_name, name, str(exc))
                return
            for facts in self.dcat.datasets(graph):
                facts.country = facts.country or self.country
                yield dataset_candidate(facts, self.source_name)
            return
        if isinstance(result, dict) and isinstance(result.get("results"), list):
            packages = result["results"]
        elif isinstance(result, dict) and "resources" in result:
            packages = [result]
        elif isinstance(result, list) and all(isinstance(p, dict) for p in result):
            packages = [p for p in result if "resources" in p]
        else:
            packages = []
        if not packages:
            log.info("%s: %s is not a package or a package list; not read", self.source_name,
                     name)
        for package in packages:
            if (item := self.package(package)) is not None:
                yield item

    # -- licences --------------------------------------------------------------------------

    def remember_licences(self, licences: object) -> None:
        for licence in items(licences):
            if isinstance(licence, dict) and licence.get("id"):
                self.licences[str(licence["id"])] = licence

    def resolve_licence(self, licence_id: str | None, title: str | None = None) -> str | None:
        """The portal's licence record for ``licence_id``, as the spelling that normalises.

        A CKAN licence id is the portal's own word (GovData uses DCAT-AP.de URIs, older
        portals short ids); its ``license_list`` entry gives the URL and title too. The
        first of id, URL and title that maps to a known licence is kept; else the id.
        """
        licence_id = text(licence_id)
        if not licence_id and not title:
            return None
        record = self.licences.get(licence_id or "", {})
        for spelling in (licence_id, record.get("url"), record.get("title"), title):
            if text(spelling) and normalise_licence(str(spelling)) is not None:
                return str(spelling).strip()
        return licence_id or text(title)

    # -- one package -----------------------------------------------------------------------

    def package(self, package: object) -> Candidate | RecordError | None:
        if not isinstance(package, dict):
            return RecordError(self.source_name, "?", "package is not a JSON object")
        record = str(package.get("name") or package.get("id") or "?")
        kind = str(package.get("type") or "dataset")
        if kind in NOT_DATASETS:
            # Not a failure: the portal lists something that is not a dataset.
            self.skipped.append((record, NOT_DATASETS[kind]))
            log.info("%s: %s skipped: %s", self.source_name, record, NOT_DATASETS[kind])
            return None
        return dataset_candidate(self.facts(package), self.source_name)

    def facts(self, package: dict) -> DatasetFacts:
        extras = _extras(package)
        org = package.get("organization") if isinstance(package.get("organization"), dict) \
            else {}
        name = text(package.get("name")) or text(package.get("id")) or "?"
        site = self.site_url
        record_url = text(package.get("ckan_url")) or (f"{site}/dataset/{name}" if site else None)
        terms = _json_value(extras.get("terms_of_use"))
        terms = terms if isinstance(terms, dict) else {}
        licence = self.resolve_licence(package.get("license_id") or terms.get("license_id"),
                                       package.get("license_title"))
        themes = strings(package.get("groups")) + strings(_json_value(extras.get("theme")))
        spatial = _json_value(extras.get("spatial_reference"))
        spatial_text = (text(extras.get("spatial_text")) or text(extras.get("geocodingText"))
                        or (text(spatial.get("text")) if isinstance(spatial, dict) else None))
        if not spatial_text and extras.get("spatial"):
            spatial_text = "bounding geometry"
        contact = (text(extras.get("contact_email")) or text(package.get("maintainer_email"))
                   or text(package.get("author_email")) or text(package.get("maintainer")))
        return DatasetFacts(
            record_id=text(package.get("id")) or name,
            record_url=record_url,
            title=text(package.get("title")) or None,
            description=text(package.get("notes")),
            landing_page=absolute_http(package.get("url")) or record_url,
            docs_url=absolute_http(extras.get("documentation")),
            licence=licence,
            contact=contact,
            country=self.country,
            themes=themes,
            keywords=strings(package.get("tags")),
            temporal_start=iso_date(extras.get("temporal_start")
                                    or extras.get("temporal_coverage_from")),
            temporal_end=iso_date(extras.get("temporal_end")
                                  or extras.get("temporal_coverage_to")),
            spatial=spatial_text,
            frequency=text(package.get("frequency")) or text(extras.get("frequency"))
            or text(extras.get("accrual_periodicity")),
            last_modified=iso_date(extras.get("modified") or package.get("metadata_modified")),
            publisher=text(extras.get("publisher_name")) or text(org.get("title"))
            or text(package.get("author")) or text(package.get("maintainer")),
            publisher_type=text(extras.get("publisher_type")),
            publisher_url=absolute_http(extras.get("publisher_url")),
            distributions=[d for d in (self.resource(r, licence)
                                       for r in items(package.get("resources"))) if d],
            replaced_by=text(extras.get("is_replaced_by")),
        )

    def resource(self, resource: object, dataset_licence: str | None) -> DistributionRecord | None:
        if not isinstance(resource, dict):
            return None
        url = absolute_http(resource.get("download_url")) or absolute_http(resource.get("url"))
        if not url:
            return None
        fmt = text(resource.get("format"))
        if fmt and "/media-types/" in fmt:
            media, fmt = fmt.split("/media-types/", 1)[1], None
        else:
            media = text(resource.get("mimetype"))
        return DistributionRecord(
            url=url, format=fmt, media_type=media, byte_size=byte_size(resource.get("size")),
            title=text(resource.get("name")) or text(resource.get("description")),
            licence=self.resolve_licence(resource.get("license")) if resource.get("license")
            else dataset_licence,
        )
