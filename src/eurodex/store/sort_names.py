"""``entries.sort_name``: the name as lists sort it, added to databases made without it.

Sorting by the raw name put "État (France)" and "etalab" after "Zürich": byte order ranks
every capital before every small letter and every accented letter after z. The folded form
(eurodex.model.sort_key) is computed in Python, since SQLite has no accent folding, and the
ORM keeps it beside the name. The search indexes sort by it, so every migration that installs
an index (0107, 0108, 0110) first makes sure the column is there and filled.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from eurodex.model import sort_key

BATCH = 1_000


def ensure_sort_names(connection: Connection) -> None:
    """Add ``entries.sort_name`` when missing (a plain nullable column: no table rebuild on
    SQLite) and fill it where it is empty."""
    columns = {c["name"] for c in sa.inspect(connection).get_columns("entries")}
    if "sort_name" not in columns:
        connection.execute(sa.text("ALTER TABLE entries ADD COLUMN sort_name VARCHAR(500)"))
    entries = sa.table("entries", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("sort_name", sa.String))
    last = 0
    while rows := connection.execute(
        sa.select(entries.c.id, entries.c.name)
        .where(entries.c.id > last, entries.c.sort_name.is_(None))
        .order_by(entries.c.id).limit(BATCH)
    ).all():
        connection.execute(
            entries.update().where(entries.c.id == sa.bindparam("row_id"))
            .values(sort_name=sa.bindparam("key")),
            [{"row_id": row.id, "key": sort_key(row.name)} for row in rows],
        )
        last = rows[-1].id
