"""search index sorts by entries.sort_name

Revision ID: 0110
Revises: 0107, 0109
Create Date: 2026-12-07 09:00:00

``entries.sort_name`` (eurodex.store.sort_names) is added and filled where it is missing, and
the facet rows of both search indexes (SQLite's ``entry_facets``, PostgreSQL's
``entry_search``) hold it instead of the raw name, with triggers that watch it. A database
indexed before has the old tables and triggers: they are dropped and installed again, which
refills them from the entries. On a new database this rebuilds the index that 0107 or 0108
has just made, empty, at no cost.
"""

from alembic import op

from eurodex.search import postgres_index, sqlite_index
from eurodex.store.sort_names import ensure_sort_names

revision = "0110"
down_revision = ("0107", "0109")
branch_labels = None
depends_on = None


def _reinstall() -> None:
    bind = op.get_bind()
    ensure_sort_names(bind)
    if bind.dialect.name == "sqlite":
        for name in sqlite_index.TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS entry_facets")
        sqlite_index.install(bind)
    elif bind.dialect.name == "postgresql":
        postgres_index.uninstall(bind)
        postgres_index.install(bind)


def upgrade() -> None:
    _reinstall()


def downgrade() -> None:
    # The index as this code defines it is the only one it can build; it stays in step.
    _reinstall()
