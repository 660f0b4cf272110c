"""Harvester for the Dutch API register (apis.developer.overheid.nl) and its snapshot.

The register describes each API by the URL of its OpenAPI document and the TOOI identifier
of the public body that owns it. The snapshot holds two real parts of it: register records
created by one bulk import (``importResult.json``: id, title, description, contact,
organisation) and the list of 205 OpenAPI URLs the register's maintainers seeded it with
(``bla.json``). One API is one entry, keyed by its document URL: a seed-list URL that also
has a register record is read once, from the record. Organisations are named from the
records and from ``tooi-labels.csv`` (see that file's SOURCE.md for where each label is
from). Live, the register's own API is paged with ``page``/``perPage`` and each API's
detail (with ``oasUrl``) is read.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.openapi_list import SpecListing, read_spec_list, spec_candidate
from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.urlkey import url_key
from eurodex.harvest.values import absolute_http, text
from eurodex.model import InstitutionType
from eurodex.model import ProvenanceMethod as M

log = logging.getLogger("eurodex.harvest")

SITE = "https://apis.developer.overheid.nl"
PER_PAGE = 100
MAX_PAGES = 10_000
# The kind of body a TOOI identifier names, by its path segment.
TOOI_TYPES = {
    "gemeente": InstitutionType.MUNICIPALITY, "provincie": InstitutionType.REGION,
    "waterschap": InstitutionType.REGION, "ministerie": InstitutionType.GOVERNMENT,
    "zbo": InstitutionType.AGENCY, "oorg": InstitutionType.AGENCY,
    "so": InstitutionType.OTHER_PUBLIC,
}
AUTH_WORDS = {"api key": "API_KEY", "apikey": "API_KEY", "oauth2": "OAUTH2", "none": "NONE"}


def read_labels(path: Path) -> dict[str, tuple[str, str | None]]:
    """``organisation URI -> (label, type)`` from a CSV with uri,label,type columns."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["uri"]: (row["label"], row.get("type") or None)
                for row in csv.DictReader(handle) if row.get("uri") and row.get("label")}


class NlApiRegisterHarvester:
    """APIs of Dutch public bodies, from the register's records and its OpenAPI URL list."""

    source_format = "nl-api-register"

    def __init__(self, *, slug: str, name: str, path: Path | None = None,
                 url: str | None = None, fetcher: PageFetcher | None = None,
                 trusted: bool = True) -> None:
        if path is None and url is None:
            raise HarvestError(f"{name}: neither a snapshot path nor a URL to harvest")
        if path is not None and not path.is_dir():
            raise HarvestError(f"{name}: {path} is not a folder of register data")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url or SITE
        self.path, self.url, self.fetcher = path, url, fetcher
        self.labels = read_labels(path / "tooi-labels.csv") if path else {}

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())

    def institution(self, uri: str | None, label: str | None = None) -> InstitutionRecord | None:
        """The public body a TOOI (or other) organisation URI names, or None."""
        if not uri:
            return None
        known_label, known_type = self.labels.get(uri, (None, None))
        name = label or known_label
        if not name:
            log.info("%s: no name known for organisation %s", self.source_name, uri)
            return None
        segment = uri.rstrip("/").split("/")[-2] if "/tooi/id/" in uri else ""
        type_ = TOOI_TYPES.get(segment) or (InstitutionType(known_type) if known_type
                                            else InstitutionType.OTHER_PUBLIC)
        fields = {"name": FieldValue(name), "country": FieldValue("NL", M.INFERRED),
                  "type": FieldValue(type_.value, M.INFERRED)}
        if "/tooi/id/" not in uri and (home := absolute_http(uri)):
            fields["homepage_url"] = FieldValue(home, M.INFERRED)
        return InstitutionRecord(key=name, record_url=uri if "/tooi/" in uri else None,
                                 fields=fields)

    def candidates(self) -> Iterator[Candidate | RecordError]:
        if self.path is not None:
            yield from self._from_folder()
        else:
            yield from self._from_register()

    # -- snapshot --------------------------------------------------------------------------

    def _from_folder(self) -> Iterator[Candidate | RecordError]:
        seen: set[str] = set()
        records = self.path / "importResult.json"
        if records.is_file():
            try:
                items = json.loads(records.read_text("utf-8"))
            except ValueError as exc:
                raise HarvestError(f"{records}: not JSON: {exc}") from exc
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and "id" in item and "oasUrl" in item:
                    candidate = self.record(item)
                    if isinstance(candidate, Candidate):
                        seen.add(url_key(candidate.value("spec_url")))
                    yield candidate
        seed = self.path / "bla.json"
        if seed.is_file():
            for listing in read_spec_list(seed):
                if isinstance(listing, RecordError):
                    yield RecordError(self.source_name, listing.record, listing.reason)
                    continue
                key = url_key(listing.url)
                if key in seen:
                    continue
                seen.add(key)
                yield spec_candidate(listing, country="NL",
                                     institution=self.institution(listing.organisation))

    def record(self, item: dict) -> Candidate | RecordError:
        """One register record (an ApiSummary or ApiDetail) as a candidate."""
        record = text(item.get("id")) or "?"
        title = text(item.get("title"))
        spec = absolute_http(item.get("oasUrl"))
        if not title:
            return RecordError(self.source_name, record, "register record has no title")
        if not spec:
            return RecordError(self.source_name, record, "register record has no OAS URL")
        contact = item.get("contact") if isinstance(item.get("contact"), dict) else {}
        org = item.get("organisation") if isinstance(item.get("organisation"), dict) else {}
        listing = SpecListing(url=spec, organisation=text(org.get("uri")),
                              contact_email=text(contact.get("email")),
                              contact_url=absolute_http(contact.get("url")))
        candidate = spec_candidate(
            listing, country="NL", institution=self.institution(listing.organisation,
                                                                text(org.get("label"))),
            record_url=f"{SITE}/apis/{record}", name=title,
            description=text(item.get("description")))
        candidate.record_id = record
        if docs := absolute_http(item.get("docsUrl")):
            candidate.fields["docs_url"] = FieldValue(docs)
        servers = [absolute_http(s.get("uri") or s.get("url")) for s in item.get("servers") or []
                   if isinstance(s, dict)]
        if servers and servers[0]:
            candidate.fields["base_url"] = FieldValue(servers[0])
        auth = [AUTH_WORDS.get(str(a).lower()) for a in item.get("auth") or []]
        if auth and auth[0]:
            candidate.fields["auth_type"] = FieldValue(auth[0], M.INFERRED)
        lifecycle = item.get("lifecycle") if isinstance(item.get("lifecycle"), dict) else {}
        if text(lifecycle.get("status")) == "retired":
            candidate.extras["retired"] = True
        return candidate

    # -- live ------------------------------------------------------------------------------

    def _from_register(self) -> Iterator[Candidate | RecordError]:
        fetcher = self.fetcher or PageFetcher()
        api = self.url.rstrip("/")
        try:
            for page in range(1, MAX_PAGES):
                items = fetcher.json(f"{api}/apis?{urlencode({'page': page, 'perPage': PER_PAGE})}")
                if not isinstance(items, list):
                    raise HarvestError(f"{api}/apis page {page}: not a list of APIs")
                for summary in items:
                    if not isinstance(summary, dict) or not text(summary.get("id")):
                        yield RecordError(self.source_name, f"page {page}", "API without id")
                        continue
                    detail = fetcher.json(f"{api}/apis/{summary['id']}")
                    yield self.record(detail if isinstance(detail, dict) else summary)
                if len(items) < PER_PAGE:
                    break
        finally:
            if self.fetcher is None:
                fetcher.close()
