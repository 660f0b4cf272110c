"""Backing up the register's database to one file, and restoring it from one.

SQLite: the online backup API copies a consistent snapshot while the register keeps serving
and checking (in WAL mode a reader blocks no writer). The copy is written beside the target,
checked with ``PRAGMA integrity_check``, then renamed over it, so a crash mid-backup never
leaves a half-written file under the backup's name. Restoring copies the file back into the
live database through the same API, in one step: readers see the old database or the new
one, never a mix.

PostgreSQL: ``pg_dump --format=custom``, and back with ``pg_restore`` (to SQL) run by ``psql``
in one transaction that first empties the ``public`` schema: the database is replaced whole,
or, when anything fails, left as it was. The password travels in ``PGPASSWORD``, never on a command
line where ``ps`` would show it.

Either way the restored database may be older than the installed eurodex: the next command
brings it up to date (every command migrates first).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_TIMEOUT_S = 3600


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why and what to do."""


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise BackupError(f"cannot back up a {backend} database: eurodex supports SQLite and "
                      "PostgreSQL")


def backup(url: str, target: Path) -> None:
    """Write the database named by ``url`` to ``target`` (replaced when it exists)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    if _kind(url) == "sqlite":
        _sqlite_backup(_sqlite_path(url), target)
    else:
        _pg_backup(url, target)


def check_backup(url: str, source: Path) -> None:
    """Raise :class:`BackupError` unless ``source`` looks like a register backup that the
    database named by ``url`` can take: quick, so it can run before asking anyone to agree to
    a restore. :func:`restore` checks it fully (SQLite's integrity check, pg_restore reading
    the whole archive) before it touches the database."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    try:
        with source.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{source} cannot be read: {exc.strerror or exc}") from exc
    if _kind(url) == "postgresql":
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump archive (a SQLite backup restores "
                              "only into SQLite)")
        return
    if not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{source} is not a SQLite backup (a PostgreSQL one restores "
                          "only into PostgreSQL)")
    try:
        connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            _check_tables(connection, str(source))
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{source} cannot be opened: {exc}") from exc


def restore(url: str, source: Path) -> None:
    """Replace the database named by ``url`` with the backup in ``source``."""
    source = Path(source)
    check_backup(url, source)
    if _kind(url) == "sqlite":
        if source.resolve() == _sqlite_path(url).resolve():
            raise BackupError(f"{source} is the live database itself: nothing to restore")
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _pg_restore(url, source)


# -- SQLite -------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory: there is nothing on disk to back up")
    return Path(database)


def _check_tables(connection: sqlite3.Connection, name: str) -> None:
    tables = {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in tables or "entries" not in tables:
        raise BackupError(f"{name} is a SQLite database but not an eurodex register")


def _check_copy(connection: sqlite3.Connection, name: str) -> None:
    verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"{name} fails SQLite's integrity check: {verdict}")
    _check_tables(connection, name)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.is_file():
        raise BackupError(f"{database} does not exist: nothing to back up")
    # Renamed over the live file (or its -wal/-shm), the copy would leave every running
    # process writing to a deleted file: the register corrupted, by its own backup.
    live = {database.resolve(), *(database.resolve().with_name(database.name + suffix)
                                  for suffix in ("-wal", "-shm", "-journal"))}
    if target.resolve() in live:
        raise BackupError(f"{target} is the live database itself: back it up to another file")
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(partial)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"cannot write {partial.parent}: {exc}") from exc
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        source.backup(copy)  # one step: a consistent snapshot of committed data
        # One self-contained file, with no -wal or -shm beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        _check_copy(copy, str(partial))
    except sqlite3.Error as exc:
        copy.close()
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {database} failed: {exc}") from exc
    except BackupError:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    copy.close()
    try:
        with partial.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _sqlite_restore(source: Path, database: Path) -> None:
    try:
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{source} cannot be opened: {exc}") from exc
    try:
        _check_copy(backup_db, str(source))
        live = sqlite3.connect(database, timeout=30)
        try:
            live.execute("PRAGMA busy_timeout=30000")
            backup_db.backup(live)  # one step, under one write lock
        finally:
            live.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {database} failed: {exc}") from exc
    finally:
        backup_db.close()


# -- PostgreSQL ---------------------------------------------------------------------------


def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    bare = URL.create("postgresql", username=parsed.username, host=parsed.host,
                      port=parsed.port, database=parsed.database, query=parsed.query)
    uri = bare.render_as_string(hide_password=False)
    return uri, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client programs "
                          "(Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, timeout=PG_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BackupError(f"{what} failed: {' '.join(problem[-3:]) or done.returncode}")


def _pg_backup(url: str, target: Path) -> None:
    uri, env = _pg_connection(url)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={partial}", f"--dbname={uri}"], env, "pg_dump")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def _pg_restore(url: str, source: Path) -> None:
    uri, env = _pg_connection(url)
    with tempfile.TemporaryDirectory(prefix="eurodex-restore-") as folder:
        # The archive becomes SQL on disk first: a damaged archive fails here, before the
        # database is touched (a script cut short while streaming would commit half of it).
        script = Path(folder) / "restore.sql"
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}",
              str(source)], env, f"reading {source}")
        # Emptied and refilled in one transaction: all of the backup, or nothing changed.
        _run([_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
              "--set=ON_ERROR_STOP=1", f"--dbname={uri}",
              "--command=DROP SCHEMA IF EXISTS public CASCADE",
              "--command=CREATE SCHEMA public", f"--file={script}"], env, "the restore")
