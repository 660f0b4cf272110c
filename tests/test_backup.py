"""``eurodex backup`` and ``eurodex restore`` as round trips, through the real command.

SQLite: a harvested register is backed up (while a writer keeps adding checks), changed, and
restored; every table comes back row for row. PostgreSQL: the same round trip with pg_dump
and pg_restore in a fresh, uniquely named database on 127.0.0.1:5432 (skipped with the
reason when no server answers, failed under CI=true).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eurodex.model import CheckResult, Outcome
from eurodex.store import repository as repo
from eurodex.store.backup import _pg_connection
from eurodex.store.db import Store
from eurodex.store.tables import Entry

EURODEX = [sys.executable, "-m", "eurodex.cli"]
PG_HOST, PG_PORT = "127.0.0.1", 5432


def eurodex(url: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=url, COLUMNS="200")
    return subprocess.run([*EURODEX, *args], env=env, capture_output=True, text=True,
                          timeout=300, input=input)


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, in order: what a restore must bring back exactly."""
    connection = sqlite3.connect(path)
    try:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {t: sorted(connection.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables if not t.endswith(("_config", "_data", "_idx", "_docsize",
                                                   "_content"))}
    finally:
        connection.close()


def _check(at: datetime) -> CheckResult:
    return CheckResult(url="https://api.example.invalid/", started_at=at, method="HEAD",
                       outcome=Outcome.UP, http_status=200, latency_ms=12)


@pytest.mark.sqlite_only(reason="SQLite online backup of the store's own file")
def test_a_sqlite_backup_restores_every_row(harvested_store: Store, tmp_path: Path):
    live = Path(harvested_store.url.removeprefix("sqlite:///"))
    with harvested_store.session() as session:
        entry_id = session.get(Entry, repo.all_entry_ids(session)[0]).id
    # A writer adds checks while the backup is taken: the backup is a consistent snapshot.
    stop = threading.Event()

    def write_checks() -> None:
        while not stop.is_set():
            with harvested_store.session() as session:
                repo.record_check(session, session.get(Entry, entry_id),
                                  _check(datetime.now(UTC)))

    writer = threading.Thread(target=write_checks)
    writer.start()
    try:
        backup_file = tmp_path / "backups" / "register.db"
        backup_file.parent.mkdir()
        done = eurodex(harvested_store.url, "backup", str(backup_file))
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    assert f"to {backup_file}" in done.stdout
    assert sorted(p.name for p in backup_file.parent.iterdir()) == ["register.db"]
    saved = sqlite_rows(backup_file)
    copy = sqlite3.connect(backup_file)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    # Each check has its roll-up: the snapshot was not taken between the two writes.
    checks = copy.execute("SELECT count(*) FROM checks").fetchone()[0]
    rolled = copy.execute("SELECT coalesce(sum(checks), 0) FROM check_rollups").fetchone()[0]
    copy.close()
    assert checks == rolled and checks > 0
    assert len(saved["entries"]) > 100

    # The register moves on after the backup: entries and checks go, a table is emptied.
    with harvested_store.session() as session:
        repo.record_check(session, session.get(Entry, entry_id), _check(datetime.now(UTC)))
    connection = sqlite3.connect(live)
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("DELETE FROM provenance")
    connection.commit()
    connection.close()
    assert sqlite_rows(live) != saved

    assert eurodex(harvested_store.url, "restore", str(backup_file), input="n\n"
                   ).returncode != 0  # asked first, and "no" changes nothing
    assert sqlite_rows(live)["provenance"] == []
    restored = eurodex(harvested_store.url, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert sqlite_rows(live) == saved
    # The restored register works: the next command opens, migrates and reads it.
    shown = eurodex(harvested_store.url, "show", "api-cvec")
    assert shown.returncode == 0 and "CVEC" in shown.stdout


@pytest.mark.sqlite_only(reason="SQLite online backup of the store's own file")
def test_a_restore_refuses_what_is_not_a_register_backup(store: Store, tmp_path: Path):
    live = Path(store.url.removeprefix("sqlite:///"))
    before = sqlite_rows(live)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    pg_archive = tmp_path / "pg.dump"
    pg_archive.write_bytes(b"PGDMP" + bytes(100))
    for file, words in ((text_file, "is not a SQLite backup"),
                        (pg_archive, "a PostgreSQL one restores only into PostgreSQL"),
                        (other, "not an eurodex register")):
        refused = eurodex(store.url, "restore", str(file), "--yes")
        assert refused.returncode == 2, refused.stdout
        assert words in " ".join(refused.stdout.split()), refused.stdout
        assert "left as it was" in refused.stdout
    assert sqlite_rows(live) == before


@pytest.mark.sqlite_only(reason="SQLite online backup of the store's own file")
def test_a_backup_never_replaces_the_live_database_or_lands_in_an_unwritable_folder(
        store: Store, tmp_path: Path):
    live = Path(store.url.removeprefix("sqlite:///"))
    before = sqlite_rows(live)
    for target in (live, live.with_name(live.name + "-wal")):
        refused = eurodex(store.url, "backup", str(target), "--force")
        assert refused.returncode == 2, refused.stdout
        assert "is the live database itself" in " ".join(refused.stdout.split())
    into_itself = eurodex(store.url, "restore", str(live), "--yes")
    assert into_itself.returncode == 2 and "live database itself" in into_itself.stdout
    nowhere = eurodex(store.url, "backup", str(tmp_path / "missing" / "b.db"))
    assert nowhere.returncode == 2 and "Traceback" not in nowhere.stdout + nowhere.stderr
    assert sqlite_rows(live) == before


def test_a_backup_of_a_missing_database_says_so(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'nowhere.db'}"
    failed = eurodex(url, "backup", str(tmp_path / "b.db"))
    assert failed.returncode == 2
    assert "does not exist: nothing to back up" in failed.stdout
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "nowhere.db").exists()


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_problem() -> str | None:
    for tool in ("psql", "pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install postgresql-client)"
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=2).close()
    except OSError as exc:
        return f"no PostgreSQL server answers on {PG_HOST}:{PG_PORT} ({exc})"
    return None


def psql(database: str, sql: str) -> str:
    done = subprocess.run(["psql", "--no-psqlrc", "-h", PG_HOST, "-p", str(PG_PORT), "-U",
                           "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tA", "-c",
                           sql], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def pg_database():
    """A fresh database with a unique name, dropped afterwards."""
    if problem := _pg_problem():
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"eurodex_backup_{uuid.uuid4().hex[:12]}"
    psql("postgres", f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PG_SCHEMA = """
CREATE TABLE institutions (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE entries (
    id bigserial PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    institution_id integer REFERENCES institutions (id),
    facts jsonb NOT NULL DEFAULT '{}',
    checked_at timestamptz
);
CREATE INDEX entries_checked ON entries (checked_at);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0001_test');
INSERT INTO institutions (name) VALUES ('Ministère de l''Économie'), ('Bundesamt für Straßen');
INSERT INTO entries (slug, institution_id, facts, checked_at)
SELECT 'api-' || n, 1 + n % 2, jsonb_build_object('n', n, 'name', 'Données ' || n),
       timestamptz '2026-01-01 00:00+00' + n * interval '1 hour'
FROM generate_series(1, 500) AS n;
"""
PG_STATE = ("SELECT string_agg(t, '|' ORDER BY t) FROM ("
            "SELECT format('%s:%s', table_name, "
            "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', "
            "table_name), false, true, '')))[1]::text) AS t "
            "FROM information_schema.tables WHERE table_schema = 'public') s")
PG_DIGEST = ("SELECT md5(string_agg(slug || institution_id || facts::text || checked_at, ',' "
             "ORDER BY id)) || ':' || (SELECT string_agg(name, ',' ORDER BY id) FROM "
             "institutions) FROM entries")


def test_a_postgresql_backup_restores_every_row(pg_database: str, tmp_path: Path):
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{pg_database}"
    psql(pg_database, PG_SCHEMA)
    state, digest = psql(pg_database, PG_STATE), psql(pg_database, PG_DIGEST)
    assert state == "alembic_version:1|entries:500|institutions:2"

    backup_file = tmp_path / "register.pgdump"
    done = eurodex(url, "backup", str(backup_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert backup_file.read_bytes().startswith(b"PGDMP")

    # The database moves on: rows deleted and changed, a table added, a sequence advanced.
    psql(pg_database, "DELETE FROM entries WHERE id > 250; UPDATE institutions SET name = 'x' "
                      "WHERE id = 1; CREATE TABLE later (x int); INSERT INTO entries (slug) "
                      "VALUES ('new')")
    assert psql(pg_database, PG_STATE) != state

    # A damaged archive is refused before anything is touched.
    damaged = tmp_path / "damaged.pgdump"
    damaged.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 2])
    refused = eurodex(url, "restore", str(damaged), "--yes")
    assert refused.returncode == 2 and "left as it was" in " ".join(refused.stdout.split())
    assert "later:0" in psql(pg_database, PG_STATE)

    restored = eurodex(url, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert psql(pg_database, PG_STATE) == state
    assert psql(pg_database, PG_DIGEST) == digest
    # Sequences come back too: the next entry does not collide with a restored one.
    assert psql(pg_database, "INSERT INTO entries (slug) VALUES ('next') RETURNING id"
                ).splitlines()[0] == "501"


def test_the_password_never_reaches_a_command_line():
    """pg_dump and psql get the password through PGPASSWORD; ``ps`` shows only the rest."""
    uri, env = _pg_connection("postgresql+psycopg://eurodex:s3cr%40t@db.internal:6543/reg"
                              "?sslmode=require")
    assert uri == "postgresql://eurodex@db.internal:6543/reg?sslmode=require"
    assert env["PGPASSWORD"] == "s3cr@t"
