"""harvest Europe: dataset columns, url key for merging sources, listings, distributions

Revision ID: 0105
Revises: 0001
Create Date: 2026-12-05 12:00:00

``entries`` gains the dataset facts (landing page, normalised licence, temporal and spatial
coverage, update frequency), the ``url_key`` that merges one resource listed by two
sources, the count of successful harvests that missed it and the entry replacing it.
``listings`` records which sources list an entry under which record id; ``distributions``
holds a dataset's files and services with the outcome of their latest check.
"""

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only plain column and index additions: SQLite runs them as ALTER TABLE, without
    # rebuilding ``entries`` (a rebuild would break triggers other revisions put on it).
    # ``replaced_by_id`` is therefore not a declared foreign key; the repository checks it.
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("landing_page", sa.String(2000), nullable=True))
        batch.add_column(sa.Column("licence_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("licence_category", sa.String(16), nullable=True))
        batch.add_column(sa.Column("temporal_start", sa.String(40), nullable=True))
        batch.add_column(sa.Column("temporal_end", sa.String(40), nullable=True))
        batch.add_column(sa.Column("spatial", sa.Text(), nullable=True))
        batch.add_column(sa.Column("frequency", sa.String(64), nullable=True))
        batch.add_column(sa.Column("url_key", sa.String(2000), nullable=True))
        batch.add_column(sa.Column("missed_harvests", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch.create_index("ix_entries_url_key", ["url_key"])

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(500), nullable=False),
        sa.Column("record_url", sa.String(2000), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_run_id", sa.Integer(), nullable=True),
        sa.Column("missed_harvests", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "record_id", name="uq_listings_record"),
    )
    op.create_index("ix_listings_entry_id", "listings", ["entry_id"])
    # Every entry harvested before this revision is listed by the source it came from.
    op.execute(
        "INSERT INTO listings (entry_id, source_id, record_id, record_url, first_seen_at, "
        "last_seen_at, missed_harvests) SELECT id, source_id, record_id, record_url, "
        "created_at, updated_at, 0 FROM entries"
    )

    op.create_table(
        "distributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("format", sa.String(100), nullable=True),
        sa.Column("media_type", sa.String(200), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(1000), nullable=True),
        sa.Column("licence", sa.String(500), nullable=True),
        sa.Column("check_outcome", sa.String(16), nullable=True),
        sa.Column("check_reason", sa.String(40), nullable=True),
        sa.Column("check_status", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_distributions_entry_id", "distributions", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_distributions_entry_id", table_name="distributions")
    op.drop_table("distributions")
    op.drop_index("ix_listings_entry_id", table_name="listings")
    op.drop_table("listings")
    with op.batch_alter_table("entries") as batch:
        batch.drop_index("ix_entries_url_key")
        for column in ("replaced_by_id", "missed_harvests", "url_key", "frequency", "spatial",
                       "temporal_end", "temporal_start", "licence_category", "licence_id",
                       "landing_page"):
            batch.drop_column(column)
