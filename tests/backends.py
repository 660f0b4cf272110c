"""Which database the suite's ``store`` fixtures use, and fresh PostgreSQL databases for it.

``EURODEX_TEST_DATABASE=postgresql`` runs the suite against PostgreSQL on 127.0.0.1:5432
(user postgres, trust auth; ``EURODEX_TEST_POSTGRES`` names another server). Every database
is created fresh with a unique name (other processes run the suite on the same server at the
same time) and dropped afterwards; one left behind by a killed run is dropped by the next run
once the process named in it has gone.

Where no server answers, tests needing one skip with the reason; under CI=true they fail,
because CI must run the PostgreSQL leg.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

BACKEND = os.environ.get("EURODEX_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"EURODEX_TEST_DATABASE={BACKEND!r}: use sqlite or postgresql")
POSTGRES = BACKEND == "postgresql"

SERVER = os.environ.get("EURODEX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
PREFIX = "eurodex_test_"
_NAME = re.compile(rf"{PREFIX}[a-z]+_(\d+)_[0-9a-f]+")


def url(database: str) -> str:
    return f"{SERVER}/{database}"


def _admin():
    import psycopg

    return psycopg.connect(url("postgres").replace("postgresql+psycopg", "postgresql"),
                           autocommit=True, connect_timeout=5)


def server_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        with _admin() as connection:
            connection.execute("SELECT 1")
    except Exception as exc:  # any failure to connect is a reason to give, not a crash
        return f"no PostgreSQL server answers at {SERVER} ({exc})".replace("\n", " ")
    return None


def require_postgresql() -> None:
    """Skip (fail under CI=true) unless the PostgreSQL server answers."""
    problem = server_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL leg: {problem}", pytrace=False)
    pytest.skip(problem)


def unique_name(label: str) -> str:
    return f"{PREFIX}{label}_{os.getpid()}_{secrets.token_hex(4)}"


def create_database(name: str, template: str | None = None) -> None:
    with _admin() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(f'CREATE DATABASE "{name}"{clause}')


def drop_database(name: str) -> None:
    with _admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_orphans() -> list[str]:
    """Drop test databases whose process (the pid in the name) no longer runs here."""
    with _admin() as connection:
        names = [row[0] for row in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",))]
    dropped = []
    for name in names:
        found = _NAME.fullmatch(name)
        if found is None or _alive(int(found.group(1))):
            continue
        drop_database(name)
        dropped.append(name)
    return dropped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def fresh_database(label: str, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template`` when given) for the block; dropped after it."""
    name = unique_name(label)
    create_database(name, template)
    try:
        yield name
    finally:
        drop_database(name)
