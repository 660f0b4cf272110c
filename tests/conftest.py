"""Shared fixtures: a fresh real database per test, TLS stand-ins, a served register."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme
import uvicorn
from pytest_httpserver import HTTPServer

from eurodex.harvest.apigouvfr import shipped_snapshot
from eurodex.settings import Settings
from eurodex.store.db import Store

from . import backends
from .browsers import CHROMIUM, CHROMIUM_ARGS, sync_playwright_or_skip

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"

# A template is a SQLite file (Path) or, on the PostgreSQL leg, a database's name (str).
Template = Path | str


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): tests SQLite internals; skipped on the PostgreSQL leg")
    config.addinivalue_line(
        "markers", "postgresql_only(reason): tests PostgreSQL internals; run on its leg only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of one database's internals are skipped, with their reason, on the other leg."""
    other = "sqlite_only" if backends.POSTGRES else "postgresql_only"
    label = "SQLite only" if backends.POSTGRES else "PostgreSQL only (EURODEX_TEST_DATABASE)"
    for item in items:
        marker = item.get_closest_marker(other)
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"{label}: {reason}"))


@contextmanager
def copy_of_template(template: Template, folder: Path, label: str) -> Iterator[Store]:
    """A fresh database holding what ``template`` holds, for one test (or module)."""
    if isinstance(template, str):
        with backends.fresh_database(label, template) as name:
            db = Store(backends.url(name))
            try:
                yield db
            finally:
                db.dispose()
        return
    target = folder / f"{label}.db"
    shutil.copyfile(template, target)
    db = Store(f"sqlite:///{target}")
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def _template(label: str, tmp_path_factory: pytest.TempPathFactory,
              origin: Template | None = None) -> Iterator[tuple[Store, Template]]:
    """A new template database (a copy of ``origin``, else migrated empty), being built.

    The store is disposed when the block ends: PostgreSQL copies a template only while no
    one is connected to it.
    """
    if backends.POSTGRES:
        name = backends.unique_name(label)
        backends.create_database(name, origin if isinstance(origin, str) else None)
        db = Store(backends.url(name))
        built: Template = name
    else:
        path = tmp_path_factory.mktemp(label) / "eurodex.db"
        if origin is not None:
            shutil.copyfile(origin, path)
        db = Store(f"sqlite:///{path}")
        built = path
    try:
        if origin is None:
            db.migrate()
        yield db, built
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def _postgres_templates() -> Iterator[list[str]]:
    """The PostgreSQL leg's session templates, dropped when the session ends."""
    backends.require_postgresql()
    backends.drop_orphans()
    made: list[str] = []
    yield made
    for name in made:
        backends.drop_database(name)


@pytest.fixture(scope="session")
def schema_template(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Template | None:
    """On PostgreSQL, a migrated empty database that each ``store`` copies (quicker than
    migrating every test's database); on SQLite each test migrates its own file."""
    if not backends.POSTGRES:
        return None
    made = request.getfixturevalue("_postgres_templates")
    with _template("schema", tmp_path_factory) as (_db, name):
        made.append(name)
    return name


@pytest.fixture
def store(tmp_path: Path, schema_template: Template | None) -> Iterator[Store]:
    """A real database migrated to the latest schema: a SQLite file in a temporary folder,
    or a fresh PostgreSQL database with EURODEX_TEST_DATABASE=postgresql."""
    if schema_template is not None:
        with copy_of_template(schema_template, tmp_path, "store") as db:
            yield db
        return
    db = Store(f"sqlite:///{tmp_path / 'eurodex.db'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def harvested_template(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A database with the shipped snapshot harvested and scored, built once per session."""
    from eurodex import pipeline
    from eurodex.harvest.apigouvfr import ApiGouvFrHarvester

    made = request.getfixturevalue("_postgres_templates") if backends.POSTGRES else []
    with _template("harvested", tmp_path_factory) as (db, built):
        made.append(built)
        pipeline.harvest(db, ApiGouvFrHarvester())
        pipeline.score(db)
    return built


# Sources with datasets and distributions, beside api.gouv.fr's APIs; the ckanext-dcat
# examples are untrusted, so some of their entries are quarantined or rejected.
PUBLISHED_EXTRA_SOURCES = ("data-gouv-fr", "govdata-de", "ckanext-dcat-examples")


@pytest.fixture(scope="session")
def published_template(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory,
                       harvested_template: Template) -> Template:
    """The harvested database plus datasets from three more sources, built once."""
    from eurodex import pipeline
    from eurodex.harvest.sources import build_harvester, load_sources

    made = request.getfixturevalue("_postgres_templates") if backends.POSTGRES else []
    with _template("published", tmp_path_factory, harvested_template) as (db, built):
        made.append(built)
        sources = {c.slug: c for c in load_sources()}
        for slug in PUBLISHED_EXTRA_SOURCES:
            pipeline.harvest(db, build_harvester(sources[slug]))
        pipeline.score(db)
    return built


@pytest.fixture
def published_store(tmp_path: Path, published_template: Template) -> Iterator[Store]:
    """A fresh copy of ``published_template``: tests may change it freely."""
    with copy_of_template(published_template, tmp_path, "published") as db:
        yield db


@pytest.fixture
def harvested_store(tmp_path: Path, harvested_template: Template) -> Iterator[Store]:
    """A fresh copy of the harvested database: tests may change it freely."""
    with copy_of_template(harvested_template, tmp_path, "harvested") as db:
        yield db


@pytest.fixture
def snapshot_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped api.gouv.fr snapshot, for tests that damage it."""
    target = tmp_path / "api-gouv-fr"
    shutil.copytree(shipped_snapshot(), target)
    return target


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def tls_server(ca: trustme.CA, *hostnames: str) -> HTTPServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hostnames).configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    return server


@pytest.fixture
def cvec_stand_in(ca: trustme.CA) -> Iterator[HTTPServer]:
    """A local HTTPS stand-in for cvec-ctrl.etudiant.gouv.fr, with a trustme certificate."""
    server = tls_server(ca, "cvec-ctrl.etudiant.gouv.fr")
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedApp:
    """The register's web app served by a real uvicorn on a loopback port, in a thread."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the web app did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve():
    """``with serve(app) as served:`` runs ``app`` on a loopback port for the test."""
    return ServedApp


@pytest.fixture
def settings(store: Store) -> Settings:
    return Settings(database_url=store.url)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (tests open their own contexts or pages in it)."""
    with sync_playwright_or_skip()() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def check_cvec_up(store: Store) -> int:
    """Store one UP check of the CVEC entry, as its probe would: the page shows VERIFIED. Its id."""
    from eurodex.model import CheckResult, Outcome
    from eurodex.store import repository as repo

    with store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        repo.record_check(session, entry, CheckResult(
            url="https://cvec-ctrl.etudiant.gouv.fr", started_at=repo.now_utc(),
            method="HEAD", outcome=Outcome.UP, http_status=200, latency_ms=80))
        return entry.id
