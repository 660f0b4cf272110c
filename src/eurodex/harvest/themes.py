"""Topics: the EU data-theme vocabulary, and how catalogue themes map onto it.

Every harvested theme is mapped to one or more of the thirteen EU data themes
(http://publications.europa.eu/resource/authority/data-theme), so that entries from different
countries can be filtered by the same topic. A theme may be a data-theme URI or code, a
GovData (German), Dutch, English or datos.gob.es (Spanish) category, or an api.gouv.fr theme.
"""

from __future__ import annotations

from unidecode import unidecode

EU_THEMES: dict[str, str] = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}

THEME_URI = "http://publications.europa.eu/resource/authority/data-theme/"

# api.gouv.fr and data.gouv.fr themes (French), compared without accents or case.
_FRENCH_THEMES: dict[str, tuple[str, ...]] = {
    "administration": ("GOVE",),
    "administration & legislation": ("GOVE", "JUST"),
    "agriculture": ("AGRI",),
    "annuaire": ("GOVE",),
    "bibliographie": ("EDUC",),
    "culture": ("EDUC",),
    "droit et justice": ("JUST",),
    "eau": ("ENVI",),
    "ecologie": ("ENVI",),
    "education": ("EDUC",),
    "emploi": ("ECON", "SOCI"),
    "energie": ("ENER",),
    "enseignement": ("EDUC",),
    "enseignement superieur": ("EDUC",),
    "entreprise": ("ECON",),
    "environnement": ("ENVI",),
    "geographie": ("REGI",),
    "immatriculation": ("TRAN",),
    "particulier": ("SOCI",),
    "pollution": ("ENVI",),
    "professionnels": ("ECON",),
    "sante": ("HEAL",),
    "securite": ("JUST",),
    "services publics": ("GOVE",),
    "sport": ("EDUC",),
    "transport": ("TRAN",),
    "cantine": ("EDUC", "AGRI"),
    "restauration": ("AGRI",),
    "planification": ("ENVI", "REGI"),
    "urbanisme": ("REGI",),
}


# GovData (DCAT-AP.de) categories, by CKAN group name and title, and common German words.
_GERMAN_THEMES: dict[str, tuple[str, ...]] = {
    "bevoelkerung": ("SOCI",), "bevolkerung": ("SOCI",),
    "bildung wissenschaft": ("EDUC", "TECH"), "bildung und wissenschaft": ("EDUC", "TECH"),
    "geo": ("REGI",), "geographie, geologie und geobasisdaten": ("REGI",),
    "gesetze justiz": ("JUST",), "gesetze und justiz": ("JUST",),
    "gesundheit": ("HEAL",),
    "infrastruktur bauen wohnen": ("REGI", "TRAN"),
    "infrastruktur, bauen und wohnen": ("REGI", "TRAN"),
    "kultur freizeit sport tourismus": ("EDUC",),
    "kultur, freizeit, sport und tourismus": ("EDUC",),
    "politik wahlen": ("GOVE",), "politik und wahlen": ("GOVE",),
    "soziales": ("SOCI",), "transport verkehr": ("TRAN",), "transport und verkehr": ("TRAN",),
    "umwelt klima": ("ENVI",), "umwelt und klima": ("ENVI",), "umwelt": ("ENVI",),
    "verbraucher": ("ECON",), "verbraucherschutz": ("ECON",),
    "verwaltung": ("GOVE",), "offentliche verwaltung, haushalt und steuern": ("GOVE", "ECON"),
    "wirtschaft arbeit": ("ECON",), "wirtschaft und arbeit": ("ECON",),
    "landwirtschaft": ("AGRI",), "energie": ("ENER",), "verkehr": ("TRAN",),
}

# Dutch (data.overheid.nl / TOOI thema) and English words.
_DUTCH_THEMES: dict[str, tuple[str, ...]] = {
    "bestuur": ("GOVE",), "overheid": ("GOVE",), "economie": ("ECON",), "financien": ("ECON",),
    "onderwijs": ("EDUC",), "cultuur": ("EDUC",), "zorg": ("HEAL",), "gezondheid": ("HEAL",),
    "milieu": ("ENVI",), "natuur": ("ENVI",), "natuur en milieu": ("ENVI",),
    "ruimtelijke ordening": ("REGI",), "wonen": ("REGI",), "verkeer": ("TRAN",),
    "verkeer en vervoer": ("TRAN",), "landbouw": ("AGRI",), "energie": ("ENER",),
    "recht": ("JUST",), "openbare orde en veiligheid": ("JUST",), "werk": ("ECON", "SOCI"),
    "sociale zekerheid": ("SOCI",), "internationaal": ("INTR",), "basisregistratie": ("GOVE",),
}
_ENGLISH_THEMES: dict[str, tuple[str, ...]] = {
    "agriculture": ("AGRI",), "economy": ("ECON",), "finance": ("ECON",),
    "education": ("EDUC",), "culture": ("EDUC",), "sport": ("EDUC",), "energy": ("ENER",),
    "environment": ("ENVI",), "government": ("GOVE",), "health": ("HEAL",),
    "international": ("INTR",), "justice": ("JUST",), "crime": ("JUST",),
    "regions": ("REGI",), "cities": ("REGI",), "population": ("SOCI",), "society": ("SOCI",),
    "science": ("TECH",), "technology": ("TECH",), "transport": ("TRAN",),
    "mapping": ("REGI",), "geography": ("REGI",), "housing": ("REGI",),
    "employment": ("ECON", "SOCI"), "business": ("ECON",),
}
# datos.gob.es sectors (NTI-RISP), by the last segment of their URI.
_SPANISH_THEMES: dict[str, tuple[str, ...]] = {
    "ciencia tecnologia": ("TECH",), "comercio": ("ECON",), "cultura ocio": ("EDUC",),
    "demografia": ("SOCI",), "deporte": ("EDUC",), "economia": ("ECON",),
    "educacion": ("EDUC",), "empleo": ("ECON", "SOCI"), "energia": ("ENER",),
    "hacienda": ("ECON",), "industria": ("ECON",), "legislacion justicia": ("JUST",),
    "medio ambiente": ("ENVI",), "medio rural pesca": ("AGRI",), "salud": ("HEAL",),
    "sector publico": ("GOVE",), "seguridad": ("JUST",), "sociedad bienestar": ("SOCI",),
    "transporte": ("TRAN",), "turismo": ("ECON",), "urbanismo infraestructuras": ("REGI",),
    "vivienda": ("REGI",),
}
_ALL_THEMES: dict[str, tuple[str, ...]] = {
    **_ENGLISH_THEMES, **_SPANISH_THEMES, **_DUTCH_THEMES, **_GERMAN_THEMES, **_FRENCH_THEMES,
}


def _key(theme: str) -> str:
    return " ".join(unidecode(theme).lower().split())


def _lookup(theme: str) -> tuple[str, ...] | None:
    """EU codes for one theme: a data-theme URI or code, or a word in a known language."""
    text = theme.strip()
    if "://" in text:
        tail = text.rstrip("/").rsplit("/", 1)[-1]
        if "/data-theme/" in text and tail.upper() in EU_THEMES:
            return (tail.upper(),)
        text = tail.replace("-", " ").replace("_", " ")
    if text.upper() in EU_THEMES and text.isalpha() and len(text) == 4:
        return (text.upper(),)
    key = _key(text)
    return _ALL_THEMES.get(key) or _ALL_THEMES.get(key.replace("_", " "))


def map_themes(themes: list[str]) -> tuple[list[str], list[str]]:
    """EU theme codes for ``themes``, in first-seen order, and the themes that map to none."""
    codes: list[str] = []
    unmapped: list[str] = []
    for theme in themes:
        found = _lookup(theme)
        if found is None:
            unmapped.append(theme)
            continue
        codes.extend(code for code in found if code not in codes)
    return codes, unmapped
