"""Harvester for a plain list of OpenAPI document URLs: one API entry per document.

A list is a text file (one URL per line, ``#`` comments, optionally a tab and the owning
organisation) or a JSON list of URLs or of objects with ``href``/``url``/``oasUrl`` and
``organisationUri``. Nothing is fetched: the entry is the API the document describes,
identified by the document's URL; its name is read from the URL until a full verification
captures the spec. This is honest about what such a list says: *this organisation publishes
an API described at this URL*, no more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.urlkey import url_key
from eurodex.harvest.values import absolute_http, text
from eurodex.model import Kind
from eurodex.model import ProvenanceMethod as M

# Path segments that say nothing about what an API does.
_NOISE = re.compile(r"^(v\d+(\.\d+)*|api|apis|rest|schema|schemas|openapi|swagger|spec|"
                    r"specificatie|docs?|publish|pages|public|latest|master|main|raw|-|\d+)$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class SpecListing:
    """One line of a list: the document URL, its owner, and any contact given beside it."""

    url: str
    organisation: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None


def name_from_spec_url(url: str) -> str:
    """``precariobelasting (api.data.amsterdam.nl)`` from the document's URL."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and "." in segments[-1]:
        stem = segments.pop().rsplit(".", 1)[0]
        if not _NOISE.match(stem):
            segments.append(stem)
    words = [s for s in segments if not _NOISE.match(s)]
    label = " ".join(words[-2:]).replace("-", " ").replace("_", " ").strip()
    host = parts.hostname or url
    return f"{label} ({host})" if label else host


def read_spec_list(path: Path) -> Iterator[SpecListing | RecordError]:
    """The listings of a ``.txt`` or ``.json`` list; a bad line is a RecordError."""
    if path.suffix == ".json":
        try:
            items = json.loads(path.read_text("utf-8"))
        except ValueError as exc:
            raise HarvestError(f"{path}: not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise HarvestError(f"{path}: not a JSON list of OpenAPI URLs")
        for index, item in enumerate(items):
            yield _listing(item, f"{path.name}[{index}]")
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            url, _, organisation = line.strip().partition("\t")
            yield _listing({"href": url, "organisationUri": organisation or None},
                           f"{path.name}:{number}")


def _listing(item: object, where: str) -> SpecListing | RecordError:
    if isinstance(item, str):
        item = {"href": item}
    if not isinstance(item, dict):
        return RecordError("", where, "not a URL or an object with href")
    url = absolute_http(item.get("href") or item.get("url") or item.get("oasUrl"))
    if not url:
        return RecordError("", where, f"no http(s) URL of an OpenAPI document: {item!r:.120}")
    contact = item.get("contact") if isinstance(item.get("contact"), dict) else {}
    return SpecListing(url=url, organisation=text(item.get("organisationUri")),
                       contact_email=text(contact.get("email")),
                       contact_url=absolute_http(contact.get("url")))


def spec_candidate(listing: SpecListing, *, country: str | None,
                   institution: InstitutionRecord | None, record_url: str | None = None,
                   name: str | None = None, description: str | None = None) -> Candidate:
    fields = {
        "name": FieldValue(name) if name else FieldValue(name_from_spec_url(listing.url),
                                                         M.INFERRED),
        "spec_url": FieldValue(listing.url),
    }
    if description:
        fields["description"] = FieldValue(description)
    if country:
        fields["country"] = FieldValue(country, M.INFERRED)
    if contact := listing.contact_email or listing.contact_url:
        fields["contact"] = FieldValue(contact)
    if listing.contact_url:
        fields["homepage_url"] = FieldValue(listing.contact_url, M.INFERRED)
    return Candidate(
        record_id="spec:" + (url_key(listing.url) or listing.url),
        record_url=record_url,
        kind=Kind.API,
        fields=fields,
        institution_key=institution.key if institution else None,
        institution=institution,
    )


class OpenApiListHarvester:
    """A list of OpenAPI document URLs, each one API of the listed organisation."""

    source_format = "openapi-list"

    def __init__(self, *, slug: str, name: str, path: Path, trusted: bool = False,
                 country: str | None = None, url: str | None = None) -> None:
        if not path.is_file():
            raise HarvestError(f"{name}: {path} is not a file listing OpenAPI URLs")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path = path
        self.country = country

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())

    def candidates(self) -> Iterator[Candidate | RecordError]:
        seen: set[str] = set()
        for listing in read_spec_list(self.path):
            if isinstance(listing, RecordError):
                yield RecordError(self.source_name, listing.record, listing.reason)
                continue
            key = url_key(listing.url)
            if key in seen:
                continue  # the same document listed twice is one API
            seen.add(key)
            yield spec_candidate(listing, country=self.country, institution=None)
