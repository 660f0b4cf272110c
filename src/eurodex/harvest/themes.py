"""Topics: the EU data-theme vocabulary, and how catalogue themes map onto it.

Every harvested theme is mapped to one or more of the thirteen EU data themes
(http://publications.europa.eu/resource/authority/data-theme), so that entries from different
countries can be filtered by the same topic.
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

# api.gouv.fr themes (French), compared without accents or case.
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


def _key(theme: str) -> str:
    return " ".join(unidecode(theme).lower().split())


def map_themes(themes: list[str]) -> tuple[list[str], list[str]]:
    """EU theme codes for ``themes``, in first-seen order, and the themes that map to none."""
    codes: list[str] = []
    unmapped: list[str] = []
    for theme in themes:
        found = _FRENCH_THEMES.get(_key(theme))
        if found is None:
            unmapped.append(theme)
            continue
        codes.extend(code for code in found if code not in codes)
    return codes, unmapped
