"""Opening the database and bringing its schema up to date.

SQLite is the default and runs in WAL mode with a busy timeout, so pages can be served while
checks are written; PostgreSQL is chosen by the URL alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("eurodex.store")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get the pragmas the register relies on."""
    # hide_parameters: statement values (session secrets, CSRF tokens, harvested payloads)
    # never reach SQLAlchemy's log lines nor the text of its errors, which get logged.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration shipped with the package (idempotent; all heads)."""
    from alembic import command
    from alembic.config import Config

    migrations = resources.files("eurodex.store") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver runs DDL outside any transaction unless one is opened by
            # hand: a process killed mid-migration then left tables that alembic_version did
            # not record, and every later start failed on "table ... already exists". One
            # transaction makes the migration all or nothing; IMMEDIATE takes the write lock
            # first (waiting out the busy timeout), so two processes starting together
            # migrate one after the other instead of both reading the old version.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
        if connection.dialect.name == "sqlite":
            # A migration that rebuilt a table on another branch took its triggers with it.
            from eurodex.search.sqlite_index import repair

            repair(connection)


class Store:
    """The database behind the register: an engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
