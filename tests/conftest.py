"""Shared fixtures: a fresh real database per test, TLS stand-ins, a served register."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
import uvicorn
from pytest_httpserver import HTTPServer

from eurodex.harvest.apigouvfr import shipped_snapshot
from eurodex.settings import Settings
from eurodex.store.db import Store

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite database in a temporary folder, migrated to the latest schema."""
    db = Store(f"sqlite:///{tmp_path / 'eurodex.db'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def harvested_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the shipped snapshot harvested and scored, built once per session."""
    from eurodex import pipeline
    from eurodex.harvest.apigouvfr import ApiGouvFrHarvester

    path = tmp_path_factory.mktemp("template") / "eurodex.db"
    db = Store(f"sqlite:///{path}")
    db.migrate()
    pipeline.harvest(db, ApiGouvFrHarvester())
    pipeline.score(db)
    db.dispose()
    return path


@pytest.fixture
def harvested_store(tmp_path: Path, harvested_template: Path) -> Iterator[Store]:
    """A fresh copy of the harvested database: tests may change it freely."""
    target = tmp_path / "harvested.db"
    shutil.copyfile(harvested_template, target)
    db = Store(f"sqlite:///{target}")
    yield db
    db.dispose()


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
