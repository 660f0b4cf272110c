"""Harvester for the api.gouv.fr catalogue format (Markdown files with YAML front matter).

The catalogue keeps one file per API under ``api/``, one per producer under ``producteurs/``
and the specifications it hosts itself under ``swaggers/``. This module reads a folder of that
shape (the snapshot shipped in ``eurodex.snapshots``) and yields institutions and candidates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path

from eurodex.harvest.frontmatter_reader import FrontMatterError, read_front_matter
from eurodex.harvest.records import (
    Candidate,
    FieldValue,
    HarvestError,
    InstitutionRecord,
    RecordError,
    SpecDocument,
)
from eurodex.harvest.themes import map_themes
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

log = logging.getLogger("eurodex.harvest")

SITE = "https://api.gouv.fr"
SOURCE_SLUG = "api-gouv-fr"
SOURCE_NAME = "api.gouv.fr"

# The catalogue's producer types, in French, mapped to the register's institution types.
PRODUCER_TYPES: dict[str, InstitutionType] = {
    "ministère": InstitutionType.GOVERNMENT,
    "juridiction": InstitutionType.GOVERNMENT,
    "etablissement public": InstitutionType.AGENCY,
    "groupement d'intérêt public": InstitutionType.AGENCY,
    "département": InstitutionType.REGION,
    "région": InstitutionType.REGION,
    "collectivité": InstitutionType.MUNICIPALITY,
    "commune": InstitutionType.MUNICIPALITY,
    "entreprise de service public": InstitutionType.OTHER_PUBLIC,
    "association avec mission de service public": InstitutionType.OTHER_PUBLIC,
    "autre": InstitutionType.OTHER_PUBLIC,
}

# ``is_open`` as the catalogue's own code reads it: 1 open, 0 account needed, -1 on request.
AUTH_TYPES = {"1": "NONE", "0": "ACCOUNT", "-1": "RESTRICTED"}


def shipped_snapshot() -> Path:
    """The api.gouv.fr snapshot inside the installed package."""
    return Path(str(resources.files("eurodex.snapshots") / "api-gouv-fr"))


def shipped_spec_overrides() -> Path:
    return Path(str(resources.files("eurodex.snapshots") / "api-gouv-fr-overrides"))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return None
    text = str(value).strip()
    return text or None


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [s.strip() for s in (str(v) for v in value) if s.strip()]
    text = _text(value)
    return [text] if text else []


def _iso_date(value: str | None) -> str | None:
    """``DD/MM/YYYY`` (possibly followed by junk, as one file has) as ``YYYY-MM-DD``."""
    if not value:
        return None
    match = re.match(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def _absolute(link: str) -> str:
    return link if "://" in link else SITE + "/" + link.lstrip("/")


class ApiGouvFrHarvester:
    """Reads an api.gouv.fr catalogue folder; yields institutions, then candidates."""

    source_slug = SOURCE_SLUG
    source_name = SOURCE_NAME
    source_format = "api-gouv-fr"
    source_url = SITE
    trusted = True

    def __init__(
        self,
        folder: Path | None = None,
        *,
        spec_overrides: Path | None = None,
        spec_override_files: dict[str, Path] | None = None,
    ) -> None:
        self.folder = folder or shipped_snapshot()
        self.spec_overrides = spec_overrides if spec_overrides is not None else (
            shipped_spec_overrides() if folder is None else None
        )
        self.spec_override_files = dict(spec_override_files or {})
        for sub in ("api", "producteurs"):
            if not (self.folder / sub).is_dir():
                raise HarvestError(
                    f"{self.folder}: not an api.gouv.fr catalogue folder (no {sub}/ inside)"
                )

    # -- institutions ---------------------------------------------------------------------

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        for path in sorted((self.folder / "producteurs").glob("*.md")):
            try:
                yield self._institution(path)
            except FrontMatterError as exc:
                yield RecordError(self.source_name, f"producteurs/{path.name}", str(exc))

    def _institution(self, path: Path) -> InstitutionRecord:
        meta = read_front_matter(path).metadata
        name = _text(meta.get("name"))
        if not name:
            raise FrontMatterError(f"{path.name}: no name")
        label = _text(meta.get("type"))
        type_ = PRODUCER_TYPES.get((label or "").lower(), InstitutionType.OTHER_PUBLIC)
        fields = {
            "name": FieldValue(name),
            "country": FieldValue("FR", M.INFERRED),
            "type": FieldValue(type_.value, M.INFERRED),
            "type_label": FieldValue(label),
        }
        if acronym := _text(meta.get("acronym")):
            fields["acronym"] = FieldValue(acronym)
        if contact := _text(meta.get("contact")):
            fields["contact"] = FieldValue(contact)
        return InstitutionRecord(key=path.stem, record_url=None, fields=fields)

    # -- entries --------------------------------------------------------------------------

    def candidates(self) -> Iterator[Candidate | RecordError]:
        paths = sorted((self.folder / "api").glob("*.md"))
        log.info("api.gouv.fr: reading %d entry files from %s", len(paths), self.folder)
        for path in paths:
            try:
                yield self._candidate(path)
            except FrontMatterError as exc:
                log.warning("api.gouv.fr: skipped %s: %s", path.name, exc)
                yield RecordError(self.source_name, f"api/{path.name}", str(exc))

    def _candidate(self, path: Path) -> Candidate:
        doc = read_front_matter(path)
        meta = doc.metadata
        stem = path.stem
        title = _text(meta.get("title"))
        if not title:
            raise FrontMatterError(f"{path.name}: no title")
        producer = _text(meta.get("producer"))
        if not producer:
            raise FrontMatterError(f"{path.name}: no producer")

        page = f"{SITE}/les-api/{stem}"
        fields: dict[str, FieldValue] = {"name": FieldValue(title)}
        if tagline := _text(meta.get("tagline")):
            fields["summary"] = FieldValue(tagline)
        body = doc.body.strip() or (_text(meta.get("content_intro")) or "")
        if body or tagline:
            fields["description"] = FieldValue(body or tagline)
        fields["country"] = FieldValue("FR", M.INFERRED)
        themes = _strings(meta.get("themes"))
        topics, unmapped = map_themes(themes)
        if unmapped:
            log.info("api.gouv.fr: %s: themes with no EU topic: %s", path.name, unmapped)
        if topics:
            fields["topics"] = FieldValue(topics, M.INFERRED)
        if keywords := _strings(meta.get("keywords")):
            fields["tags"] = FieldValue(keywords)
        if contact := _text(meta.get("contact_link")):
            fields["contact"] = FieldValue(contact)
        auth = AUTH_TYPES.get(_text(meta.get("is_open")) or "")
        if auth:
            fields["auth_type"] = FieldValue(auth, M.INFERRED)
        rate = _text(meta.get("rate_limiting_resume")) or _text(
            meta.get("rate_limiting_description")
        )
        if rate:
            fields["rate_limit"] = FieldValue(rate)
        if modified := _iso_date(_text(meta.get("last_update"))):
            fields["last_modified"] = FieldValue(modified)

        site = _text(meta.get("external_site")) or _text(meta.get("extrenal_site"))
        fields["homepage_url"] = (
            FieldValue(site) if site else FieldValue(page, M.INFERRED)
        )
        spec_link = _text(meta.get("doc_tech_link"))
        docs = _text(meta.get("doc_tech_external"))
        if spec_link:
            fields["spec_url"] = FieldValue(_absolute(spec_link))
        if docs:
            fields["docs_url"] = FieldValue(docs)
        elif spec_link:
            # The catalogue renders every declared spec on its documentation page.
            fields["docs_url"] = FieldValue(f"{SITE}/documentation/{stem}", M.INFERRED)

        return Candidate(
            record_id=stem,
            record_url=page,
            kind=Kind.API,
            fields=fields,
            institution_key=producer,
            spec=self._spec(stem, spec_link),
        )

    def _spec(self, stem: str, spec_link: str | None) -> SpecDocument | None:
        published = _absolute(spec_link) if spec_link else None
        override = self.spec_override_files.get(stem)
        if override is None and self.spec_overrides is not None:
            found = sorted(self.spec_overrides.glob(f"{stem}.*"))
            override = next((p for p in found if p.suffix in (".json", ".yaml", ".yml")), None)
        if override is not None:
            return SpecDocument(override, published)
        if spec_link and spec_link.startswith("/swaggers/"):
            local = self.folder / spec_link.lstrip("/")
            # The link comes from the record: "/swaggers/../../etc/passwd" must not be read.
            inside = local.resolve().is_relative_to((self.folder / "swaggers").resolve())
            if inside and local.is_file():
                return SpecDocument(local, published)
        return None
