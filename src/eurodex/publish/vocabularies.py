"""The controlled vocabularies DCAT-AP expects, and how the register's values map onto them.

Only values that map to a known code are given as vocabulary IRIs; anything else stays a
literal (or is left out) rather than minting an IRI that the EU vocabularies do not define.
"""

from __future__ import annotations

import re
from datetime import date, datetime

COUNTRY_AUTHORITY = "http://publications.europa.eu/resource/authority/country/"
FILE_TYPE_AUTHORITY = "http://publications.europa.eu/resource/authority/file-type/"
FREQUENCY_AUTHORITY = "http://publications.europa.eu/resource/authority/frequency/"
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
PUBLISHER_TYPES = "http://purl.org/adms/publishertype/"

# ISO 3166-1 alpha-2 (as stored) to the alpha-3 codes of the EU country authority table;
# "EU" is the table's EUR. Kosovo's provisional code is left out.
COUNTRY_CODES = {
    "AD": "AND", "AL": "ALB", "AM": "ARM", "AT": "AUT", "AX": "ALA", "AZ": "AZE", "BA": "BIH",
    "BE": "BEL", "BG": "BGR", "BY": "BLR", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU",
    "DK": "DNK", "EE": "EST", "ES": "ESP", "EU": "EUR", "FI": "FIN", "FO": "FRO", "FR": "FRA",
    "GB": "GBR", "GE": "GEO", "GG": "GGY", "GI": "GIB", "GL": "GRL", "GR": "GRC", "HR": "HRV",
    "HU": "HUN", "IE": "IRL", "IM": "IMN", "IS": "ISL", "IT": "ITA", "JE": "JEY", "LI": "LIE",
    "LT": "LTU", "LU": "LUX", "LV": "LVA", "MC": "MCO", "MD": "MDA", "ME": "MNE", "MK": "MKD",
    "MT": "MLT", "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU", "RS": "SRB",
    "RU": "RUS", "SE": "SWE", "SI": "SVN", "SJ": "SJM", "SK": "SVK", "SM": "SMR", "TR": "TUR",
    "UA": "UKR", "VA": "VAT",
}

# Formats as catalogues spell them, upper-cased, to codes of the EU file-type table.
FILE_TYPES = {
    "CSV": "CSV", "ZIPPED CSV": "ZIP", "JSON": "JSON", "XML": "XML", "GEOJSON": "GEOJSON",
    "PDF": "PDF", "XLSX": "XLSX", "XLS": "XLS", "ZIP": "ZIP", "HTML": "HTML", "TXT": "TXT",
    "KML": "KML", "GML": "GML", "TIFF": "TIFF", "WMS": "WMS_SRVC", "WFS": "WFS_SRVC",
    "RDF/XML": "RDF_XML", "RDF": "RDF", "TTL": "RDF_TURTLE", "TURTLE": "RDF_TURTLE",
    "JSON-LD": "JSON_LD", "ODS": "ODS", "SHP": "SHP", "PARQUET": "PARQUET", "TSV": "TSV",
}

FREQUENCIES = {
    "hourly": "HOURLY", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY",
    "quarterly": "QUARTERLY", "annual": "ANNUAL", "annually": "ANNUAL", "yearly": "ANNUAL",
    "irregular": "IRREG", "continuous": "UPDATE_CONT", "never": "NEVER",
}

# Institution types to the ADMS publisher types (other public bodies have no close match).
PUBLISHER_TYPE_CODES = {
    "GOVERNMENT": ("NationalAuthority", "National authority"),
    "AGENCY": ("NationalAuthority", "National authority"),
    "REGION": ("RegionalAuthority", "Regional authority"),
    "MUNICIPALITY": ("LocalAuthority", "Local authority"),
    "EU_INSTITUTION": ("SupraNationalAuthority", "Supra-national authority"),
}

_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")
_EMAIL = re.compile(r"[^@\s/:]+@[^@\s/]+\.[a-z]{2,}", re.IGNORECASE)


def country_iri(code: str | None) -> str | None:
    alpha3 = COUNTRY_CODES.get((code or "").upper())
    return COUNTRY_AUTHORITY + alpha3 if alpha3 else None


def file_type_iri(fmt: str | None) -> str | None:
    code = FILE_TYPES.get((fmt or "").strip().upper())
    return FILE_TYPE_AUTHORITY + code if code else None


def media_type_iri(text: str | None) -> str | None:
    value = (text or "").strip().lower().split(";")[0].strip()
    return IANA_MEDIA_TYPES + value if _MEDIA_TYPE.fullmatch(value) else None


def frequency_iri(text: str | None) -> str | None:
    value = (text or "").strip()
    if value.startswith(FREQUENCY_AUTHORITY):
        return value
    code = FREQUENCIES.get(value.lower())
    return FREQUENCY_AUTHORITY + code if code else None


def email_of(contact: str | None) -> str | None:
    text = (contact or "").strip().removeprefix("mailto:")
    return text if _EMAIL.fullmatch(text) else None


def parse_date(text: str | None) -> date | datetime | None:
    """A date or a time from the ISO spellings catalogues use; None for anything else."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
