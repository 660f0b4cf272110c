"""cluster mode: PostgreSQL full-text search, leases on verification turns

Revision ID: 0108
Revises: 0001 (after 0103, which creates schedules)
Create Date: 2026-12-06 09:00:00

On PostgreSQL, the search index of eurodex.search.postgres_index: ``entry_search`` (a
weighted ``tsvector`` under GIN, and the facet columns), the immutable ``eurodex_unaccent``
wrapper and the triggers that keep it in step. SQLite keeps its FTS5 index (0107).

On both, ``schedules.leased_until``: a verification turn handed to a queued job is leased
until then, so the planner does not hand it out again while the job waits or runs; a lease
that outlives a lost job simply expires.
"""

import sqlalchemy as sa
from alembic import op

from eurodex.search import postgres_index
from eurodex.store.sort_names import ensure_sort_names

revision = "0108"
down_revision = "0001"
branch_labels = None
depends_on = ("0103",)  # leases go on the schedules table


def upgrade() -> None:
    # A plain nullable column: SQLite adds it with ALTER TABLE, without rebuilding the table.
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        ensure_sort_names(op.get_bind())  # the index sorts by it (0110)
        postgres_index.install(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        postgres_index.uninstall(op.get_bind())
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("leased_until")
