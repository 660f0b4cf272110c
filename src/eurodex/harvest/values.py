"""Small readers shared by the harvesters: text, lists, dates, sizes, countries.

Catalogues put the same fact in many shapes (a string, a list, a number as text, a date with
or without a time); these turn each into one shape, or None, and never raise.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from urllib.parse import urlsplit

# Country-code top-level domains whose country is the ISO code itself, except the UK.
_TLD_COUNTRY = {"uk": "GB", "eu": "EU"}
_GENERIC_TLDS = {"com", "org", "net", "info", "io", "app", "cloud", "network", "int", "edu"}


def text(value: object) -> str | None:
    """A non-empty stripped string, or None (lists, dicts and blanks are not text)."""
    if value is None or isinstance(value, list | dict | tuple | bool):
        return None
    found = str(value).strip()
    return found or None


def items(value: object) -> list:
    """A list field as a list; anything else a catalogue puts there (null, a number, a
    string) as no items, so a reader can always iterate."""
    return value if isinstance(value, list) else []


def strings(value: object) -> list[str]:
    """A list of non-empty strings from a string, a list, or a list of ``{"name": ...}``."""
    items = value if isinstance(value, list | tuple) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("display_name") or item.get("name") or item.get("title")
        if (t := text(item)) and t not in found:
            found.append(t)
    return found


def iso_date(value: object) -> str | None:
    """``YYYY-MM-DD`` from an ISO date or date-time (with or without zone), else None."""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    found = text(value)
    if not found:
        return None
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", found)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


# No count a catalogue states is this large; anything longer is junk (and int() of thousands
# of digits is refused by Python itself).
_MAX_DIGITS = 18


def byte_size(value: object) -> int | None:
    """A byte count from an int or a numeric string; None for anything else, negatives,
    infinities and numbers too long to be a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and 0 <= value < 10**_MAX_DIGITS else None
    if isinstance(value, int):
        return value if 0 <= value < 10**_MAX_DIGITS else None
    found = text(value)
    if found and re.fullmatch(rf"\d{{1,{_MAX_DIGITS}}}(\.0+)?", found):
        return int(found.split(".")[0])
    return None


def country_from_url(url: str | None) -> str | None:
    """The country a host's country-code TLD names (``.de`` is DE, ``.uk`` is GB), else None."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return None
    tld = host.rsplit(".", 1)[-1].lower() if "." in host else ""
    if not tld or tld in _GENERIC_TLDS or not tld.isalpha():
        return None
    if tld in _TLD_COUNTRY:
        return _TLD_COUNTRY[tld]
    return tld.upper() if len(tld) == 2 else None


def absolute_http(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None."""
    found = text(url)
    if found and re.match(r"https?://[^/\s]+", found, re.IGNORECASE):
        return found
    return None
