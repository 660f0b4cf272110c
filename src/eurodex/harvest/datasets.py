"""One dataset as any catalogue describes it, turned into a candidate with provenance.

CKAN, udata and DCAT-AP name the same facts differently; each harvester fills a
:class:`DatasetFacts` and this module makes the candidate, so that every dataset source maps
licence, coverage, frequency, topics and distributions the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eurodex.harvest.records import (
    Candidate,
    DistributionRecord,
    FieldValue,
    InstitutionRecord,
    RecordError,
)
from eurodex.harvest.themes import map_themes
from eurodex.harvest.values import absolute_http, country_from_url, text
from eurodex.model import InstitutionType, Kind
from eurodex.model import ProvenanceMethod as M

# DCAT-AP publisher types (ADMS vocabulary) mapped to institution types.
PUBLISHER_TYPES = {
    "nationalauthority": InstitutionType.GOVERNMENT,
    "regionalauthority": InstitutionType.REGION,
    "localauthority": InstitutionType.MUNICIPALITY,
    "supranationalauthority": InstitutionType.EU_INSTITUTION,
    "publicbody": InstitutionType.AGENCY,
}

# Update frequencies: EU frequency vocabulary codes and the words udata and CKAN use.
FREQUENCIES = {
    "continuous": "continuous", "realtime": "continuous", "punctual": "irregular",
    "daily": "daily", "weekly": "weekly", "biweekly": "every two weeks",
    "monthly": "monthly", "bimonthly": "every two months", "quarterly": "quarterly",
    "semiannual": "twice a year", "biannual": "twice a year", "annual": "annual",
    "annual_2": "twice a year", "biennial": "every two years", "irregular": "irregular",
    "irreg": "irregular", "never": "never updated", "other": "other", "unknown": None,
    "update_cont": "continuous", "hourly": "hourly", "1hour": "hourly",
}


def frequency_word(value: object) -> str | None:
    """``annual`` from ``.../frequency/ANNUAL``, ``annual`` or ``Annual``; None if unknown."""
    found = text(value)
    if not found:
        return None
    code = found.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower()
    code = re.sub(r"[\s-]+", "_", code)
    return FREQUENCIES.get(code, found if len(found) <= 40 and "/" not in found else None)


@dataclass
class DatasetFacts:
    """What a harvester read about one dataset, before mapping."""

    record_id: str
    record_url: str | None
    title: str | None
    description: str | None = None
    landing_page: str | None = None
    docs_url: str | None = None
    licence: str | None = None
    contact: str | None = None
    country: str | None = None
    themes: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    temporal_start: str | None = None
    temporal_end: str | None = None
    spatial: str | None = None
    frequency: str | None = None
    last_modified: str | None = None
    publisher: str | None = None
    publisher_type: str | None = None
    publisher_url: str | None = None
    publisher_country: str | None = None
    distributions: list[DistributionRecord] = field(default_factory=list)
    replaced_by: str | None = None


def _institution(facts: DatasetFacts, country: str | None) -> InstitutionRecord | None:
    name = text(facts.publisher)
    if not name or not country:
        return None
    kind = (facts.publisher_type or "").rstrip("/").rsplit("/", 1)[-1].lower()
    type_ = PUBLISHER_TYPES.get(kind, InstitutionType.OTHER_PUBLIC)
    fields = {
        "name": FieldValue(name),
        "country": FieldValue(facts.publisher_country or country, M.INFERRED),
        "type": FieldValue(type_.value, M.INFERRED),
    }
    if url := absolute_http(facts.publisher_url):
        fields["homepage_url"] = FieldValue(url)
    return InstitutionRecord(key=name, record_url=None, fields=fields)


def dataset_candidate(facts: DatasetFacts, source: str) -> Candidate | RecordError:
    """The candidate for ``facts``, or the reason it cannot be one (no title)."""
    title = text(facts.title)
    if not title:
        return RecordError(source, facts.record_id, "dataset has no title")
    fields: dict[str, FieldValue] = {"name": FieldValue(title)}
    landing = absolute_http(facts.landing_page)
    first_url = facts.distributions[0].url if facts.distributions else None
    country = facts.country
    method = M.HARVESTED
    if not country:
        country = country_from_url(landing) or country_from_url(first_url)
        method = M.INFERRED
    simple = {
        "description": text(facts.description), "landing_page": landing,
        "docs_url": absolute_http(facts.docs_url), "licence": text(facts.licence),
        "contact": text(facts.contact), "temporal_start": text(facts.temporal_start),
        "temporal_end": text(facts.temporal_end), "spatial": text(facts.spatial),
        "frequency": frequency_word(facts.frequency),
        "last_modified": text(facts.last_modified),
    }
    fields.update({k: FieldValue(v) for k, v in simple.items() if v})
    if country:
        fields["country"] = FieldValue(country.upper(), method)
    topics, _unmapped = map_themes(facts.themes)
    if topics:
        fields["topics"] = FieldValue(topics, M.INFERRED)
    if facts.keywords:
        fields["tags"] = FieldValue(list(dict.fromkeys(facts.keywords)))
    return Candidate(
        record_id=facts.record_id,
        record_url=facts.record_url,
        kind=Kind.DATASET,
        fields=fields,
        institution_key=text(facts.publisher) if country else None,
        distributions=[d for d in facts.distributions if absolute_http(d.url)],
        replaced_by=facts.replaced_by,
        institution=_institution(facts, country),
    )
