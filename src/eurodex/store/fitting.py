"""Make a harvested record fit the store's columns before it is written.

SQLite ignores a ``VARCHAR(n)`` length; PostgreSQL refuses a longer value, and the whole
batch's transaction with it. So lengths are checked here, the same way on both databases:

* free text with a length limit (a name, a contact, a licence statement) is cut at the limit,
  on a word boundary where one is near, and ends with an ellipsis: the record still lands,
  and the provenance row keeps the value as stored;
* a value that cannot be cut without becoming wrong (a URL, a country code, a date, an
  identifier) makes the record a :class:`RecordError` naming the field and both lengths, so
  it is reported and skipped while the rest of the harvest goes on.

Text is also put in Unicode's composed form (NFC): a catalogue writing "contrôle" as "o" and
a combining circumflex would otherwise be stored, shown and indexed as another word than the
"contrôle" a reader types (the search index splits words at a lone combining mark).
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from sqlalchemy import String

from eurodex.harvest.records import (
    Candidate,
    DistributionRecord,
    FieldValue,
    InstitutionRecord,
    RecordError,
)
from eurodex.store.tables import Distribution, Entry, Institution

# Columns whose value may be shortened for display without becoming false.
CUTTABLE = frozenset({"name", "contact", "licence", "type_label", "acronym"})
ELLIPSIS = "…"


def _limits(table) -> dict[str, int]:
    return {c.name: c.type.length for c in table.__table__.columns
            if isinstance(c.type, String) and c.type.length}


ENTRY_LIMITS = _limits(Entry)
INSTITUTION_LIMITS = _limits(Institution)
DISTRIBUTION_LIMITS = _limits(Distribution)


class TooLong(ValueError):
    """A value that cannot be cut to fit its column."""


def cut(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, ending with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space >= limit * 3 // 4:
        head = head[:space]
    return head.rstrip(" ,;:-") + ELLIPSIS


def _composed(value: object) -> object:
    """Strings, and strings in a list, in NFC; anything else as it is."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [unicodedata.normalize("NFC", item) for item in value]
    return value


def _fit_fields(fields: dict[str, FieldValue], limits: dict[str, int]) -> dict[str, FieldValue]:
    fitted = dict(fields)
    for name, value in fields.items():
        composed = _composed(value.value)
        if composed != value.value:
            value = fitted[name] = FieldValue(composed, value.method)
        limit = limits.get(name)
        if limit is None or not isinstance(value.value, str) or len(value.value) <= limit:
            continue
        if name not in CUTTABLE:
            raise TooLong(f"field {name} is {len(value.value)} characters long, "
                          f"more than the {limit} the register stores")
        fitted[name] = FieldValue(cut(value.value, limit), value.method)
    return fitted


def _fit_institution(record: InstitutionRecord | None) -> InstitutionRecord | None:
    if record is None:
        return None
    fields = _fit_fields(record.fields, INSTITUTION_LIMITS)
    return record if fields == record.fields else replace(record, fields=fields)


def _fit_distribution(d: DistributionRecord) -> DistributionRecord:
    """Labels cut to their columns; a URL too long to store makes the record an error."""
    if len(d.url) > DISTRIBUTION_LIMITS["url"]:
        raise TooLong(f"a distribution URL is {len(d.url)} characters long, more than the "
                      f"{DISTRIBUTION_LIMITS['url']} the register stores")
    labels = {name: cut(getattr(d, name), DISTRIBUTION_LIMITS[name])
              for name in ("format", "media_type", "title", "licence")
              if isinstance(getattr(d, name), str)
              and len(getattr(d, name)) > DISTRIBUTION_LIMITS[name]}
    return replace(d, **labels) if labels else d


def fit_candidate(candidate: Candidate, source: str) -> Candidate | RecordError:
    """The candidate with over-long free text cut, or the error that skips it."""
    record_limit = ENTRY_LIMITS["record_id"]
    if len(candidate.record_id) > record_limit:
        return RecordError(source, candidate.record_id[:80] + ELLIPSIS,
                           f"record id is {len(candidate.record_id)} characters long, more "
                           f"than the {record_limit} the register stores")
    try:
        fields = _fit_fields(candidate.fields, ENTRY_LIMITS)
        institution = _fit_institution(candidate.institution)
        distributions = [_fit_distribution(d) for d in candidate.distributions]
    except TooLong as exc:
        return RecordError(source, candidate.record_id, str(exc))
    if (fields == candidate.fields and institution is candidate.institution
            and distributions == candidate.distributions):
        return candidate
    return replace(candidate, fields=fields, institution=institution,
                   distributions=distributions)
