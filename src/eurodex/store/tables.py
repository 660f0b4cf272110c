"""SQLAlchemy tables: the register's facts, one table per kind of fact.

The same models serve SQLite (the default) and PostgreSQL. JSON columns hold lists that are
read whole (tags, topics, domains, schema fields); anything queried on its own has a column.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from eurodex.model import sort_key


class UTCDateTime(TypeDecorator):
    """Times are stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so without this a value written aware would come back naive and
    compare wrongly with ``datetime.now(UTC)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(
            UTC
        ).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    acronym: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    type: Mapped[str] = mapped_column(String(32))
    type_label: Mapped[str | None] = mapped_column(String(200))
    homepage_url: Mapped[str | None] = mapped_column(String(2000))
    contact: Mapped[str | None] = mapped_column(String(500))
    official_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    github_orgs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    entries: Mapped[list[Entry]] = relationship(back_populates="institution")


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(String(2000))
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class HarvestRun(Base):
    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # running, ok, partial, failed
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[list[dict]] = mapped_column(JSON, default=list)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("source_id", "record_id", name="uq_entries_source_record"),
        Index("ix_entries_status_state", "status", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(500))
    # The name as lists sort it (model.sort_key), kept by name's validator below; NULL only
    # for rows written without the ORM, which the search indexes then sort by name.
    sort_name: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    country: Mapped[str | None] = mapped_column(String(2))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    base_url: Mapped[str | None] = mapped_column(String(2000))
    health_url: Mapped[str | None] = mapped_column(String(2000))
    docs_url: Mapped[str | None] = mapped_column(String(2000))
    spec_url: Mapped[str | None] = mapped_column(String(2000))
    homepage_url: Mapped[str | None] = mapped_column(String(2000))
    contact: Mapped[str | None] = mapped_column(String(500))
    rate_limit: Mapped[str | None] = mapped_column(Text)
    auth_type: Mapped[str | None] = mapped_column(String(32))
    licence: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(40))
    # Datasets in full, and the merge of sources (migration 0105).
    landing_page: Mapped[str | None] = mapped_column(String(2000))
    licence_id: Mapped[str | None] = mapped_column(String(64))
    licence_category: Mapped[str | None] = mapped_column(String(16))
    temporal_start: Mapped[str | None] = mapped_column(String(40))
    temporal_end: Mapped[str | None] = mapped_column(String(40))
    spatial: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str | None] = mapped_column(String(64))
    # The normalised URL that identifies the resource across sources (harvest.urlkey).
    url_key: Mapped[str | None] = mapped_column(String(2000), index=True)
    # Successful harvests in a row, of every source listing it, that no longer list it.
    missed_harvests: Mapped[int] = mapped_column(Integer, default=0)
    replaced_by_id: Mapped[int | None] = mapped_column(Integer)  # an entries.id

    # Where the entry was first harvested from, and its id in that source.
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    record_id: Mapped[str] = mapped_column(String(500))
    record_url: Mapped[str | None] = mapped_column(String(2000))

    # Admission (methodology 3).
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")

    # Verification (methodology 4).
    state: Mapped[str] = mapped_column(String(16), default="UNVERIFIED")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_check_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(16))

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    institution: Mapped[Institution | None] = relationship(back_populates="entries")
    source: Mapped[Source] = relationship()

    @validates("name")
    def _keep_sort_name(self, _key: str, name: str) -> str:
        self.sort_name = sort_key(name) if name else None
        return name


#: What lists of entries are ordered by: the folded name, or the name where none is kept.
ENTRY_NAME_ORDER = func.coalesce(Entry.sort_name, Entry.name)


class Provenance(Base):
    """Where one stored field value came from (methodology 1)."""

    __tablename__ = "provenance"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "field", "source_id", name="uq_provenance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))  # "entry" or "institution"
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[object] = mapped_column(JSON)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    record_url: Mapped[str | None] = mapped_column(String(2000))
    method: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]


class Proof(Base):
    __tablename__ = "proofs"
    __table_args__ = (UniqueConstraint("entry_id", "name", name="uq_proofs_entry_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    held: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)
    checked: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    sentence: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime]


class Check(Base):
    __tablename__ = "checks"
    __table_args__ = (
        Index("ix_checks_entry_started", "entry_id", "started_at"),
        Index("ix_checks_started_at", "started_at"),  # the retention job deletes by age
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    started_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(8))
    http_status: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(String(300))
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    tls_expires_at: Mapped[datetime | None]


class CapturedSchemaRow(Base):
    __tablename__ = "schemas"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), unique=True
    )
    captured_at: Mapped[datetime]
    captured_from: Mapped[str] = mapped_column(String(2000))
    origin: Mapped[str] = mapped_column(String(16))  # declared or sampled
    spec_format: Mapped[str | None] = mapped_column(String(16))
    spec_version: Mapped[str | None] = mapped_column(String(16))
    fields: Mapped[list[dict]] = mapped_column(JSON)
    field_count: Mapped[int] = mapped_column(Integer)
    filterable_count: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # The spec's GET operations (path, path and query parameters), for curl examples.
    operations: Mapped[list[dict] | None] = mapped_column(JSON)
    # Set by full verification (methodology 4): when the spec URL was last re-fetched, and
    # why that failed; a failed re-fetch never replaces the schema captured before.
    refreshed_at: Mapped[datetime | None]
    refresh_error: Mapped[str | None] = mapped_column(Text)


class Score(Base):
    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), unique=True
    )
    officialness: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer)
    metadata_completeness: Mapped[int] = mapped_column(Integer)
    licence_clarity: Mapped[int] = mapped_column(Integer)
    agent_readiness: Mapped[int] = mapped_column(Integer)
    sentences: Mapped[dict[str, str]] = mapped_column(JSON)
    composite: Mapped[int] = mapped_column(Integer, index=True)
    composite_exact: Mapped[float]
    tier: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime]


class CheckRollup(Base):
    """One entry's checks in one UTC hour; kept forever, while raw checks go after 90 days.

    ``latency_samples`` counts the checks that measured a latency (a refused connection has
    none), so ``total_latency_ms / latency_samples`` is a true mean.
    """

    __tablename__ = "check_rollups"
    __table_args__ = (UniqueConstraint("entry_id", "hour", name="uq_check_rollups_entry_hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    hour: Mapped[datetime]
    checks: Mapped[int] = mapped_column(Integer, default=0)
    decisive: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    total_latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    latency_samples: Mapped[int] = mapped_column(Integer, default=0)


class Schedule(Base):
    """When an entry is next due in one verification loop ("probe" or "full").

    Persisted, so a restarted process resumes the rolling loops where they stopped.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("entry_id", "loop", name="uq_schedules_entry_loop"),
        Index("ix_schedules_loop_due", "loop", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    loop: Mapped[str] = mapped_column(String(8))
    next_due_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    # Cluster mode: handed to a queued job until then (eurodex.jobs.planning).
    leased_until: Mapped[datetime | None]


class Event(Base):
    """Something that happened to an entry, for feeds: state_change, schema_change, new_entry,
    retired. ``detail`` holds what a reader needs to say what changed."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_at", "at"),
        Index("ix_events_entry_at", "entry_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Curator(Base):
    """Someone allowed to decide on quarantined entries (``eurodex curator add NAME``).

    The token is shown once; only a salted scrypt hash of its secret part is kept, and the
    public ``token_id`` finds the row without comparing against every hash.
    """

    __tablename__ = "curators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_salt: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class CuratorSession(Base):
    """A browser session opened with the login form; the cookie holds the secret, we a hash."""

    __tablename__ = "curator_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    curator_id: Mapped[int] = mapped_column(ForeignKey("curators.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditLog(Base):
    """Every admission decision a curator made: who, when, what and why (methodology 3)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entry", "entry_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))  # approve, reject
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"))
    entry_slug: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class Listing(Base):
    """One source's record of an entry: the entry is listed by each source that has one.

    An entry merged from two sources has two listings. A listing that successful harvests of
    its source no longer contain counts the misses; when every listing of an entry has
    missed three, the entry is retired (its rows are never deleted).
    """

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("source_id", "record_id", name="uq_listings_record"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"),
                                          index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    record_id: Mapped[str] = mapped_column(String(500))
    record_url: Mapped[str | None] = mapped_column(String(2000))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_seen_run_id: Mapped[int | None] = mapped_column(Integer)
    missed_harvests: Mapped[int] = mapped_column(Integer, default=0)


class Distribution(Base):
    """One distribution of a dataset (a file or a service), as one source describes it.

    The outcome of its latest check (full verification checks every distribution URL) is
    kept on the row, so the entry page can show which files answer.
    """

    __tablename__ = "distributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"),
                                          index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str | None] = mapped_column(String(100))
    media_type: Mapped[str | None] = mapped_column(String(200))
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(1000))
    licence: Mapped[str | None] = mapped_column(String(500))
    check_outcome: Mapped[str | None] = mapped_column(String(16))
    check_reason: Mapped[str | None] = mapped_column(String(40))
    check_status: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime | None]
