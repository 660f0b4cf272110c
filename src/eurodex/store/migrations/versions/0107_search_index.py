"""search index: SQLite FTS5 over approved entries, a facet table, captured GET operations

Revision ID: 0107
Revises: 0001
Create Date: 2026-12-05 10:00:00

``schemas.operations`` keeps the GET operations of a captured spec (path, path and query
parameters), from which the entry page builds its curl examples.

On SQLite, the search index of eurodex.search.sqlite_index: an FTS5 table and a facet table,
both kept in step by triggers. PostgreSQL gets neither: cluster mode brings its own full-text
search, and until then eurodex.search uses its portable implementation there.
"""

import sqlalchemy as sa
from alembic import op

from eurodex.search import sqlite_index
from eurodex.store.sort_names import ensure_sort_names

revision = "0107"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schemas") as batch:
        batch.add_column(sa.Column("operations", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        ensure_sort_names(op.get_bind())  # the facet table sorts by it (0110)
        sqlite_index.install(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in sqlite_index.TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS entry_facets")
        op.execute("DROP TABLE IF EXISTS entry_fts")
    with op.batch_alter_table("schemas") as batch:
        batch.drop_column("operations")
