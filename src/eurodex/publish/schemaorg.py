"""schema.org JSON-LD for an entry page: a ``WebAPI`` or a ``Dataset``, for search engines.

Embedded in the page as a ``<script type="application/ld+json">`` data block. Browsers never
execute a data block, so the page's Content-Security-Policy (no script at all) is not
concerned; the JSON is escaped so that no harvested text can close the block early.
"""

from __future__ import annotations

import json

from eurodex.harvest.themes import EU_THEMES
from eurodex.model import Kind
from eurodex.publish.links import Links
from eurodex.store.tables import Distribution, Entry, Score

_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def entry_jsonld(entry: Entry, score: Score | None, distributions: list[Distribution],
                 links: Links) -> dict:
    page = links.entry(entry.slug)
    data: dict = {
        "@context": "https://schema.org",
        "@type": "WebAPI" if entry.kind == Kind.API.value else "Dataset",
        "@id": page,
        "name": entry.name,
        "url": page,
        "identifier": entry.slug,
    }
    description = entry.description or entry.summary
    if description:
        data["description"] = description[:5000]
    if entry.institution is not None:
        inst = entry.institution
        organisation = {"@type": "GovernmentOrganization", "name": inst.name,
                        "url": links.institution(inst.slug)}
        data["provider" if entry.kind == Kind.API.value else "publisher"] = organisation
    keywords = [EU_THEMES.get(code, code) for code in entry.topics or []]
    keywords += [str(tag) for tag in entry.tags or []]
    if keywords:
        data["keywords"] = keywords
    if entry.licence:
        data["license"] = entry.licence
    if entry.country:
        data["spatialCoverage"] = entry.country
    if entry.last_modified:
        data["dateModified"] = entry.last_modified
    if entry.kind == Kind.API.value:
        if entry.docs_url:
            data["documentation"] = entry.docs_url
        if entry.base_url:
            data["sameAs"] = entry.base_url
    else:
        if entry.landing_page:
            data["sameAs"] = entry.landing_page
        if entry.temporal_start or entry.temporal_end:
            data["temporalCoverage"] = (
                f"{entry.temporal_start or '..'}/{entry.temporal_end or '..'}")
        data["distribution"] = [
            {"@type": "DataDownload", "contentUrl": d.url,
             **({"encodingFormat": d.media_type or d.format}
                if (d.media_type or d.format) else {}),
             **({"name": d.title} if d.title else {})}
            for d in distributions
        ]
    if score is not None:
        data["additionalProperty"] = [
            {"@type": "PropertyValue", "name": "eurodex quality score",
             "value": score.composite, "minValue": 0, "maxValue": 100,
             "description": f"tier {score.tier}", "url": links.methodology},
        ]
    return data


def script_json(data: dict) -> str:
    """JSON safe to place between ``<script type="application/ld+json">`` and ``</script>``."""
    return json.dumps(data, ensure_ascii=False).translate(_SCRIPT_SAFE)
