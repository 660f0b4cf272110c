"""Rows of entries created during a harvest batch, written together at the end of the batch.

A new entry comes with a dozen rows (provenance of each field, distributions, proofs, its
listing, the new-entry event). Added one by one through the ORM, they cost more than
parsing the record; collected here and written with one ``executemany`` per table, they
cost little. The rows are written in the batch's transaction, so they are committed together
with their entry or not at all.

Only rows nothing reads back before the batch ends are collected: those of entries created
in this transaction, whose every later read goes through :func:`write_pending` first
(``repository.upsert_entry`` calls it as soon as a record turns out to be an entry already
stored, which may be one created earlier in the same batch). A session without a buffer
(everything outside the harvest) adds rows through the ORM as before.

A row may name its entry by the object rather than by its id (``{"entry_id": entry}``): a
new entry is inserted with the others of its batch, when the session next flushes, and
gets its id only then.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import insert
from sqlalchemy.orm import Session

from eurodex.store.tables import Base, Distribution, Event, Listing, Proof, Provenance

_KEY = "eurodex.pending_rows"
# Written in this order (all of them reference entries, none references another).
TABLES: tuple[type[Base], ...] = (Listing, Provenance, Distribution, Proof, Event)


def collect_pending(session: Session) -> None:
    """From now on, rows of entries created in this session wait for :func:`write_pending`."""
    session.info[_KEY] = defaultdict(list)


def add_row(session: Session, model: type[Base], values: dict) -> None:
    """Add one row: to the session's buffer when it collects them, else through the ORM."""
    pending = session.info.get(_KEY)
    if pending is None:
        if any(isinstance(v, Base) and v.id is None for v in values.values()):
            session.flush()
        session.add(model(**_with_ids(values)))
    else:
        pending[model].append(values)


def _with_ids(values: dict) -> dict:
    return {k: (v.id if isinstance(v, Base) else v) for k, v in values.items()}


def write_pending(session: Session) -> int:
    """Write every collected row now (one executemany per table); returns how many."""
    pending = session.info.get(_KEY)
    if not pending:
        return 0
    session.flush()  # the entries the rows belong to get their ids
    written = 0
    for model in TABLES:
        rows = pending.pop(model, None)
        if rows:
            session.execute(insert(model), [_with_ids(row) for row in rows])
            written += len(rows)
    return written
