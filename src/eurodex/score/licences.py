"""Licence normalisation: free text, ids and URLs mapped to known licence ids and categories.

The categories are those licence clarity scores on (methodology 5): open, attribution and
share-alike licences are all open; a known licence that forbids reuse or commerce is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    category: str  # "open", "attribution", "share-alike" or "not-open"

    @property
    def is_open(self) -> bool:
        return self.category != "not-open"


_KNOWN = [
    Licence("cc0-1.0", "Creative Commons Zero 1.0", "open"),
    Licence("cc-by-4.0", "Creative Commons Attribution 4.0", "attribution"),
    Licence("cc-by-3.0", "Creative Commons Attribution 3.0", "attribution"),
    Licence("cc-by-sa-4.0", "Creative Commons Attribution-ShareAlike 4.0", "share-alike"),
    Licence("cc-by-sa-3.0", "Creative Commons Attribution-ShareAlike 3.0", "share-alike"),
    Licence("etalab-2.0", "Licence Ouverte / Open Licence 2.0", "attribution"),
    Licence("lo-1.0", "Licence Ouverte / Open Licence 1.0", "attribution"),
    Licence("odbl-1.0", "Open Database License 1.0", "share-alike"),
    Licence("odc-by-1.0", "Open Data Commons Attribution 1.0", "attribution"),
    Licence("pddl-1.0", "Open Data Commons Public Domain Dedication 1.0", "open"),
    Licence("dl-de-by-2.0", "Datenlizenz Deutschland Namensnennung 2.0", "attribution"),
    Licence("dl-de-zero-2.0", "Datenlizenz Deutschland Zero 2.0", "open"),
    Licence("ogl-uk-3.0", "Open Government Licence v3.0", "attribution"),
    Licence("eupl-1.2", "European Union Public Licence 1.2", "share-alike"),
    Licence("mit", "MIT License", "attribution"),
    Licence("apache-2.0", "Apache License 2.0", "attribution"),
    Licence("cc-by-nc-4.0", "Creative Commons Attribution-NonCommercial 4.0", "not-open"),
    Licence("cc-by-nd-4.0", "Creative Commons Attribution-NoDerivatives 4.0", "not-open"),
    Licence("cc-by-nc-sa-4.0", "Creative Commons Attribution-NonCommercial-ShareAlike 4.0",
            "not-open"),
    Licence("dl-de-by-nc-1.0", "Datenlizenz Deutschland Namensnennung nicht-kommerziell 1.0",
            "not-open"),
    Licence("proprietary", "Proprietary licence", "not-open"),
    Licence("dl-de-by-1.0", "Datenlizenz Deutschland Namensnennung 1.0", "attribution"),
    Licence("cc-by-nc-3.0", "Creative Commons Attribution-NonCommercial 3.0", "not-open"),
    Licence("cc-by-nc-2.0", "Creative Commons Attribution-NonCommercial 2.0", "not-open"),
    Licence("cc-by-nd-3.0", "Creative Commons Attribution-NoDerivatives 3.0", "not-open"),
    Licence("pdm-1.0", "Public Domain Mark 1.0", "open"),
    Licence("official-work", "Official work, free of copyright (§ 5 UrhG)", "open"),
    Licence("geonutz-bund", "Nutzungsbestimmungen für Geodaten des Bundes", "attribution"),
    Licence("geonutz-berlin", "Nutzungsbestimmungen für Geodaten des Landes Berlin",
            "attribution"),
    Licence("gpl-3.0", "GNU General Public License 3.0", "share-alike"),
    Licence("mpl-2.0", "Mozilla Public License 2.0", "share-alike"),
    Licence("gfdl", "GNU Free Documentation License", "share-alike"),
    Licence("bsd", "BSD licence", "attribution"),
    Licence("other-open", "Other open licence", "open"),
    Licence("other-attribution", "Other open licence with attribution", "attribution"),
    Licence("other-public-domain", "Other public-domain dedication", "open"),
    Licence("other-non-commercial", "Other non-commercial licence", "not-open"),
    Licence("other-closed", "Other closed licence", "not-open"),
    Licence("other-commercial", "Other commercial licence", "not-open"),
    Licence("other-freeware", "Other freeware licence (free of charge, not open)", "not-open"),
]
KNOWN_LICENCES = {licence.id: licence for licence in _KNOWN}

# Spellings seen in catalogues (ids, titles, URLs), reduced by _key() before lookup.
_ALIASES = {
    "cc0": "cc0-1.0", "cc-zero": "cc0-1.0", "publicdomain/zero/1.0": "cc0-1.0",
    "cc-by": "cc-by-4.0", "licenses/by/4.0": "cc-by-4.0", "licenses/by/3.0": "cc-by-3.0",
    "cc-by-sa": "cc-by-sa-4.0", "licenses/by-sa/4.0": "cc-by-sa-4.0",
    "licenses/by-nc/4.0": "cc-by-nc-4.0", "licenses/by-nd/4.0": "cc-by-nd-4.0",
    "lo-2.0": "etalab-2.0", "etalab": "etalab-2.0", "licence-ouverte": "etalab-2.0",
    "licence-ouverte-2.0": "etalab-2.0", "licence-ouverte-open-licence-2.0": "etalab-2.0",
    "licence-ouverte-open-licence-version-2.0": "etalab-2.0", "fr-lo": "lo-1.0",
    "licence-ouverte-open-licence": "lo-1.0", "lov2": "etalab-2.0",
    "odc-odbl": "odbl-1.0", "odbl": "odbl-1.0", "open-database-license": "odbl-1.0",
    "odc-by": "odc-by-1.0", "odc-pddl": "pddl-1.0",
    "dl-by-de/2.0": "dl-de-by-2.0", "dl-de-by": "dl-de-by-2.0",
    "dl-zero-de/2.0": "dl-de-zero-2.0", "dl-de-zero": "dl-de-zero-2.0",
    "uk-ogl": "ogl-uk-3.0", "ogl": "ogl-uk-3.0", "open-government-licence": "ogl-uk-3.0",
    "open-government-licence-v3.0": "ogl-uk-3.0", "version/3": "ogl-uk-3.0",
    "eupl": "eupl-1.2", "eupl-1.2": "eupl-1.2",
    # DCAT-AP.de licence URIs (after the vocabulary prefix) and GovData's CKAN ids.
    "dl-by-de/1.0": "dl-de-by-1.0", "dl-de-by-1.0": "dl-de-by-1.0",
    "dl-by-nc-de/1.0": "dl-de-by-nc-1.0",
    "cc-by/4.0": "cc-by-4.0", "cc-by-de/3.0": "cc-by-3.0", "cc-by-sa/4.0": "cc-by-sa-4.0",
    "cc-by-sa-de/3.0": "cc-by-sa-3.0", "cc-by-nc/4.0": "cc-by-nc-4.0",
    "cc-by-nc-de/3.0": "cc-by-nc-3.0", "cc-by-nc-de/4.0": "cc-by-nc-4.0",
    "cc-by-nd/3.0": "cc-by-nd-3.0", "cc-by-nd/4.0": "cc-by-nd-4.0", "cc-by-nd": "cc-by-nd-3.0",
    "cc-by-nc": "cc-by-nc-4.0", "cc-nc": "cc-by-nc-2.0", "cc-nc/3.0": "cc-by-nc-3.0",
    "cc-pdm/1.0": "pdm-1.0", "ccpdm/1.0": "pdm-1.0", "publicdomain/mark/1.0": "pdm-1.0",
    "officialwork": "official-work", "official-work": "official-work",
    "geonutz/20130319": "geonutz-bund", "geonutz/20131001": "geonutz-berlin",
    "od-bc": "odc-by-1.0", "odby": "odc-by-1.0", "od-bl": "odbl-1.0",
    "odcpddl": "pddl-1.0", "gpl/3.0": "gpl-3.0", "gpl-3.0": "gpl-3.0", "mozilla": "mpl-2.0",
    "apache": "apache-2.0", "other-opensource": "other-attribution",
    "licenses/by-nc/3.0": "cc-by-nc-3.0", "licenses/by-nc/2.0": "cc-by-nc-2.0",
    "licenses/by-nd/3.0": "cc-by-nd-3.0", "licenses/by-sa/3.0": "cc-by-sa-3.0",
    "licenses/by-nc": "cc-by-nc-4.0",
    # CKAN core and udata licence ids.
    "other-at": "other-attribution", "other-pd": "other-public-domain",
    "other-nc": "other-non-commercial",
    # EU licence authority table codes (publications.europa.eu/resource/authority/licence).
    "cc-bysa-4.0": "cc-by-sa-4.0", "cc-bync-4.0": "cc-by-nc-4.0",
    "cc-bynd-4.0": "cc-by-nd-4.0", "cc-byncsa-4.0": "cc-by-nc-sa-4.0", "ogl-3.0": "ogl-uk-3.0",
    "dl-de-by-2.0": "dl-de-by-2.0", "dl-de-zero-2.0": "dl-de-zero-2.0", "etalab-2.0": "etalab-2.0",
}


def _key(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"^https?://(www\.)?", "", text).rstrip("/")
    for prefix in ("creativecommons.org/", "opendatacommons.org/licenses/", "www.govdata.de/",
                   "dcat-ap.de/def/licenses/", "nationalarchives.gov.uk/doc/",
                   "publications.europa.eu/resource/authority/licence/",
                   "opendefinition.org/licenses/"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if "open-government-licence" in text:
        return "ogl"
    text = re.sub(r"[\s_]+", "-", text)
    # Versions written 2_0 (older DCAT-AP.de URIs) or 4_0 (EU table codes) read as 2.0, 4.0.
    return re.sub(r"(?<=[-/]\d)-(?=\d$)", ".", text)


def normalise_licence(text: str | None) -> Licence | None:
    """The known licence ``text`` names, or None when it cannot be normalised."""
    if not text or not text.strip():
        return None
    key = _key(text)
    licence_id = key if key in KNOWN_LICENCES else _ALIASES.get(key)
    if licence_id is None:
        tail = key.rsplit("/", 1)[-1]
        licence_id = tail if tail in KNOWN_LICENCES else _ALIASES.get(tail)
    return KNOWN_LICENCES.get(licence_id) if licence_id else None
