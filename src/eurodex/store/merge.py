"""One resource listed by several sources is one entry: finding it, and choosing what to show.

Identity: an entry's ``url_key`` is the normalised URL of what it is (an API's base URL, else
its spec URL; a dataset's landing page, else its first distribution). A record from a
source that does not list the entry yet joins the entry with the same key and kind, when
exactly one such entry exists (and, for a dataset, has the same title, since landing pages
are sometimes a publisher's home page shared by many datasets). Records of one source are
never merged with each other: two APIs of one catalogue may share a base URL.

Disagreement: every source's value is kept as a provenance row; the entry shows one of them
by the rule below, written once here and quoted on the entry page.
"""

from __future__ import annotations

import re
from types import EllipsisType

from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex.harvest.records import Candidate, FieldValue
from eurodex.harvest.urlkey import url_key
from eurodex.model import Kind
from eurodex.store.pending import add_row
from eurodex.store.tables import Entry, Institution, Listing, Provenance, Source

SHOWN_VALUE_RULE = (
    "When sources disagree, the value shown is the one given by a trusted source; among "
    "trusted (or among untrusted) sources, the one the entry was first harvested from; then "
    "the source that gave a value first. Every source's value is kept and listed here."
)


def identity_url(kind: Kind | str, values: dict[str, object]) -> str | None:
    """The URL that names the resource: see the module docstring."""
    if Kind(kind) is Kind.API:
        order = ("base_url", "spec_url")
    else:
        order = ("landing_page", "first_distribution")
    return next((str(values[k]) for k in order if values.get(k)), None)


def candidate_key(candidate: Candidate) -> str | None:
    values = {name: candidate.value(name) for name in ("base_url", "spec_url", "landing_page")}
    if candidate.distributions:
        values["first_distribution"] = candidate.distributions[0].url
    return url_key(identity_url(candidate.kind, values))


def refresh_url_key(session: Session, entry: Entry, *,
                    first_distribution: str | None | EllipsisType = ...) -> None:
    """Recompute the entry's key from its shown values (a spec may have set the base URL).

    ``first_distribution``, when the caller knows it (an entry just created), saves reading
    the stored distributions.
    """
    values = {"base_url": entry.base_url, "spec_url": entry.spec_url,
              "landing_page": entry.landing_page}
    if Kind(entry.kind) is Kind.DATASET:
        from eurodex.store.distributions import first_distribution_url

        values["first_distribution"] = (first_distribution_url(session, entry.id)
                                        if first_distribution is ... else first_distribution)
    entry.url_key = url_key(identity_url(entry.kind, values))


def slug_base(candidate: Candidate) -> str:
    """What a new entry's slug is made of: a readable record id, else the entry's name.

    A catalogue's own short id (``api-cvec``) makes a good slug; a URI, a UUID or a hex id
    does not, and the name does.
    """
    record = candidate.record_id
    readable = re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", record) and not re.search(
        r"[0-9a-f]{16}|[0-9a-f]{8}-[0-9a-f]{4}-", record.lower())
    return record if readable else str(candidate.value("name") or record)


def _same_title(a: str | None, b: object) -> bool:
    return " ".join(str(a or "").lower().split()) == " ".join(str(b or "").lower().split())


def find_entry(session: Session, source: Source, candidate: Candidate) -> Entry | None:
    """The entry ``candidate`` is a record of: listed already, or the same resource."""
    listed = session.scalar(
        select(Entry).join(Listing, Listing.entry_id == Entry.id)
        .where(Listing.source_id == source.id, Listing.record_id == candidate.record_id))
    if listed is not None:
        return listed
    own = session.scalar(select(Entry).where(Entry.source_id == source.id,
                                             Entry.record_id == candidate.record_id))
    if own is not None:
        return own
    key = candidate_key(candidate)
    if key is None:
        return None
    listed_here = select(Listing.entry_id).where(Listing.source_id == source.id)
    matches = session.scalars(
        select(Entry).where(Entry.url_key == key, Entry.kind == candidate.kind.value,
                            Entry.source_id != source.id, Entry.id.not_in(listed_here))
        .limit(2)).all()
    if len(matches) != 1:
        return None
    match = matches[0]
    if candidate.kind is Kind.DATASET and not _same_title(match.name, candidate.value("name")):
        return None
    return match


class BatchLookup:
    """What :func:`find_entry` and new slugs would ask the database, asked once per batch.

    Read before a harvest batch is written, from the batch's candidates: which record ids
    this source already has, which URL keys entries of other sources hold, which slugs are
    taken (of entries, and of the records' publishers). A record none of these can concern
    is certainly new, and costs no query; any
    other (a record met earlier in the batch, a known one, a shared URL key) goes through
    :func:`find_entry` as usual. Once the batch joins an entry of another source, that
    entry's key may change, and URL keys are asked about record by record again.
    """

    def __init__(self, session: Session, source: Source, candidates: list[Candidate],
                 slug_bases: list[str], publisher_slugs: list[str],
                 slug_suffixes: dict[str, int] | None = None) -> None:
        ids = list({c.record_id for c in candidates})
        self.known_records = set(session.scalars(
            select(Listing.record_id).where(Listing.source_id == source.id,
                                            Listing.record_id.in_(ids))))
        self.known_records.update(session.scalars(
            select(Entry.record_id).where(Entry.source_id == source.id,
                                          Entry.record_id.in_(ids))))
        keys = list({k for c in candidates if (k := candidate_key(c))})
        self.shared_keys = set(session.scalars(
            select(Entry.url_key).where(Entry.url_key.in_(keys),
                                        Entry.source_id != source.id)))
        self.taken_slugs = set(session.scalars(
            select(Entry.slug).where(Entry.slug.in_(list(set(slug_bases))))))
        self.institution_slugs = set(session.scalars(
            select(Institution.slug).where(Institution.slug.in_(list(set(publisher_slugs))))))
        self.keys_fixed = True
        self.written: set[str] = set()
        # The next "-N" to try per slug base, kept by the caller across batches: titles
        # shared by thousands of records would otherwise cost a count each.
        self.slug_suffixes = {} if slug_suffixes is None else slug_suffixes

    def certainly_new(self, candidate: Candidate) -> bool:
        return (candidate.record_id not in self.known_records
                and candidate.record_id not in self.written
                and self.keys_fixed and candidate_key(candidate) not in self.shared_keys)

    def slug_free(self, slug: str) -> bool:
        return slug not in self.taken_slugs

    def wrote(self, candidate: Candidate, entry: Entry, source: Source) -> None:
        self.written.add(candidate.record_id)
        self.taken_slugs.add(entry.slug)
        if entry.source_id != source.id:
            self.keys_fixed = False


def is_merged(session: Session, entry: Entry, source: Source) -> bool:
    """True when a source other than ``source`` lists the entry or gave it values."""
    if entry.source_id != source.id:
        return True
    return session.scalar(
        select(Listing.id).where(Listing.entry_id == entry.id, Listing.source_id != source.id)
        .limit(1)) is not None


def _rank(trusted: bool, source_id: int, row_id: int, first_source_id: int) -> tuple:
    return (0 if trusted else 1, 0 if source_id == first_source_id else 1, row_id)


def shown_row(session: Session, entry: Entry, field: str) -> Provenance | None:
    """The provenance row whose value the entry shows for ``field`` (SHOWN_VALUE_RULE)."""
    rows = session.execute(
        select(Provenance, Source.trusted).join(Source, Source.id == Provenance.source_id)
        .where(Provenance.subject == "entry", Provenance.subject_id == entry.id,
               Provenance.field == field)).all()
    if not rows:
        return None
    return min(rows, key=lambda r: _rank(r[1], r[0].source_id, r[0].id, entry.source_id))[0]


def record_field(session: Session, entry: Entry, field: str, value: FieldValue, source: Source,
                 record_url: str | None, *, merged: bool, fresh: bool = False) -> bool:
    """Record ``source``'s value of one field; True when the value shown changed.

    A field given by one source only takes that source's value, as before any merge. A
    ``fresh`` entry (created in this transaction) has no provenance yet: its rows are added
    without looking for earlier ones, which keeps large harvests fast.
    """
    from eurodex.store import repository as repo

    if fresh and not merged:
        setattr(entry, field, value.value)
        add_row(session, Provenance, {
            "subject": "entry", "subject_id": entry, "field": field, "value": value.value,
            "source_id": source.id, "record_url": record_url or entry.record_url,
            "method": value.method.value, "recorded_at": repo.now_utc()})
        return True
    if not merged:
        return repo.record_entry_field(session, entry, field, value, source, record_url)
    repo._record_provenance(session, subject="entry", subject_id=entry.id, field=field,
                            value=value, source=source, record_url=record_url or entry.record_url,
                            now=repo.now_utc())
    session.flush()
    winner = shown_row(session, entry, field)
    shown = winner.value if winner is not None else value.value
    if getattr(entry, field) != shown:
        setattr(entry, field, shown)
        return True
    return False
