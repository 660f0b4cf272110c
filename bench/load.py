"""Entry page, search API and badge under concurrent clients, while a verification round runs.

Why: the web process and the verifier share one SQLite file. Checks are committed one by one
(each with its roll-up, state, events and search-index triggers) and a round ends by
re-scoring every entry it checked; readers must go on being served meanwhile, without
errors. This measures the three most-read routes with and without that writer, in the same
run, and prints the ratio.

Set-up, all on loopback: a temporary SQLite register with the shipped api.gouv.fr and Dutch
API register snapshots harvested and scored; ``eurodex serve`` (real uvicorn) on a free port
with EURODEX_SCHEDULER=0 (no loops in the web process) and EURODEX_API_RATE_LIMIT=0 (the
JSON API's per-client limit is off: every request here comes from one address, and the
limit would measure itself, not the register); every entry's probe URL rewritten in the
temporary database to ``http://apiN.load.invalid:PORT/``, each name mapped by
EURODEX_HOST_OVERRIDES to a loopback stand-in (a ``.invalid`` name never reaches DNS, so a
missing mapping fails instead of going out; one name per entry, so the per-host politeness
limits do not throttle the round); and, in the loaded phase, ``eurodex verify --all``
started over and over in its own process until the phase ends.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 8] [--latency-ms 20]

Bounded: each measuring phase stops after ``--seconds`` (and at most ``--max-requests``),
every phase runs under a deadline, and the server, stand-in and verifier processes are
always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from aiohttp import web
from sqlalchemy import text

from eurodex import pipeline
from eurodex.harvest.sources import build_harvester, load_sources
from eurodex.store.db import Store

EURODEX = [sys.executable, "-m", "eurodex.cli"]
SOURCES = ("api-gouv-fr", "nl-api-register")
PHASE_DEADLINE_S = 120.0
# Words people type (accented and not, prefixes, two words), as in bench/search.py.
TERMS = ("données", "donnees", "entreprise", "api", "transport", "santé", "adresse",
         "cadastre", "étudiant", "emploi", "geo*", "entrepr*", "api entreprise", "siret",
         "gemeente", "kadaster", "open data", "register", "belasting", "INSEE")


# -- the loopback stand-in the verifier checks ----------------------------------------------


def _stand_in(ready: mp.Queue, stop: mp.Event, latency_ms: int) -> None:  # type: ignore[type-arg]
    """Child process: answers every HEAD and GET with 200 after ``latency_ms``."""

    async def main() -> None:
        async def handler(request: web.Request) -> web.Response:
            if latency_ms:
                await asyncio.sleep(latency_ms / 1000)
            return web.Response(text="up", content_type="text/plain")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        ready.put(runner.addresses[0][1])
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(main())


# -- the register -------------------------------------------------------------------------


def build_register(path: Path, stand_in_port: int) -> tuple[list[str], dict[str, str]]:
    """Harvest and score the shipped snapshots into ``path``; point every entry at the
    stand-in. Returns the approved entries' slugs and the host overrides."""
    store = Store(f"sqlite:///{path}")
    store.migrate()
    configs = {c.slug: c for c in load_sources()}
    for slug in SOURCES:
        pipeline.harvest(store, build_harvester(configs[slug]))
    pipeline.score(store)
    with store.session() as session:
        ids = list(session.scalars(text("SELECT id FROM entries ORDER BY id")))
        # Only the probe URL changes (health URL cleared, base URL rewritten): what
        # ``verify --all`` checks. Pages, badges and search read the rest unchanged.
        session.execute(
            text("UPDATE entries SET health_url = NULL, base_url = "
                 "'http://api' || id || '.load.invalid:' || :port || '/'"),
            {"port": stand_in_port})
        slugs = list(session.scalars(text(
            "SELECT slug FROM entries WHERE status = 'APPROVED' ORDER BY id")))
    store.dispose()
    overrides = {f"api{i}.load.invalid": f"127.0.0.1:{stand_in_port}" for i in ids}
    return slugs, overrides


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=f"sqlite:///{path}", COLUMNS="200", **extra)
    return env


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2, trust_env=False).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the web app did not answer {url} within {seconds} s") from None
            time.sleep(0.2)


# -- the clients --------------------------------------------------------------------------


@dataclass
class Figures:
    """One endpoint in one phase."""

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def _paths(endpoint: str, slugs: list[str], rng: random.Random) -> str:
    if endpoint == "entry":
        return f"/entry/{rng.choice(slugs)}"
    if endpoint == "badge":
        return f"/badge/{rng.choice(slugs)}.svg"
    return f"/api/v1/entries/search?q={rng.choice(TERMS)}&limit=20"


EXPECTED_TYPE = {"entry": "text/html", "search": "application/json", "badge": "image/svg+xml"}


async def drive(base: str, endpoint: str, slugs: list[str], clients: int, seconds: float,
                max_requests: int, seed: int) -> Figures:
    """``clients`` concurrent loops of GETs on ``endpoint`` for ``seconds`` (or until
    ``max_requests`` in all); an error is anything but a 200 of the expected type."""
    figures = Figures(endpoint)
    rng = random.Random(seed)
    sent = 0
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:
        for _ in range(20):  # warm up: connections, templates, caches
            async with session.get(_paths(endpoint, slugs, rng)) as response:
                await response.read()

        async def client() -> None:
            nonlocal sent
            while time.monotonic() < stop_at and sent < max_requests:
                sent += 1
                path = _paths(endpoint, slugs, rng)
                started = time.perf_counter()
                try:
                    async with session.get(path) as response:
                        await response.read()
                        ok = (response.status == 200 and response.content_type
                              == EXPECTED_TYPE[endpoint])
                        kind = f"HTTP {response.status} {response.content_type}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok, kind = False, type(exc).__name__
                if ok:
                    figures.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    figures.error(kind)

        began = time.monotonic()
        stop_at = began + seconds
        async with asyncio.timeout(seconds + PHASE_DEADLINE_S):
            await asyncio.gather(*(client() for _ in range(clients)))
        figures.seconds = time.monotonic() - began
    return figures


def measure(base: str, slugs: list[str], args: argparse.Namespace, seed: int
            ) -> dict[str, Figures]:
    return {endpoint: asyncio.run(drive(base, endpoint, slugs, args.clients, args.seconds,
                                        args.max_requests, seed))
            for endpoint in ("entry", "search", "badge")}


# -- the verification rounds --------------------------------------------------------------


class Verifier:
    """``eurodex verify --all`` in its own process, started again each time a round ends,
    until stopped: a writer for the whole of the loaded phase."""

    def __init__(self, path: Path, overrides: dict[str, str], concurrency: int) -> None:
        self.env = _env(path, EURODEX_HOST_OVERRIDES=",".join(
            f"{name}={target}" for name, target in overrides.items()))
        self.command = [*EURODEX, "verify", "--all", "--concurrency", str(concurrency)]
        self.process: subprocess.Popen | None = None
        self.rounds = 0
        self.failed = 0

    def _start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)

    def poll(self) -> None:
        """Count a round that ended and start the next."""
        if self.process is None:
            self._start()
        elif self.process.poll() is not None:
            self.rounds += 1
            self.failed += self.process.returncode != 0
            self._start()

    def stop(self) -> None:
        """Stop the round in progress (a round that had just ended still counts)."""
        if self.process is not None:
            if self.process.poll() is not None:
                self.rounds += 1
                self.failed += self.process.returncode != 0
            _stop(self.process)
            self.process = None


def measure_loaded(base: str, slugs: list[str], args: argparse.Namespace, seed: int,
                   verifier: Verifier, path: Path) -> tuple[dict[str, Figures], int]:
    """The same measurement while rounds run back to back; returns it and the checks the
    rounds stored meanwhile."""
    before = _checks(path)
    verifier.poll()
    # Let the first round get past its start-up (imports, migrations) and into its checks.
    deadline = time.monotonic() + 60
    while _checks(path) == before:
        verifier.poll()
        if time.monotonic() > deadline:
            raise SystemExit("the verification round stored no check within 60 s")
        time.sleep(0.05)

    async def phase() -> dict[str, Figures]:
        async def keep_verifying() -> None:
            while True:
                verifier.poll()
                await asyncio.sleep(0.05)

        keeper = asyncio.create_task(keep_verifying())
        try:
            return {endpoint: await drive(base, endpoint, slugs, args.clients, args.seconds,
                                          args.max_requests, seed)
                    for endpoint in ("entry", "search", "badge")}
        finally:
            keeper.cancel()

    figures = asyncio.run(phase())
    return figures, _checks(path) - before


def _checks(path: Path) -> int:
    connection = sqlite3.connect(path, timeout=10)
    try:
        return connection.execute("SELECT count(*) FROM checks").fetchone()[0]
    finally:
        connection.close()


# -- the report ---------------------------------------------------------------------------


def _line(label: str, f: Figures) -> str:
    kinds = f" {f.error_kinds}" if f.errors else ""
    return (f"  {label:<9} {f.rate:8.1f} req/s  p50 {f.percentile(50):7.1f} ms  "
            f"p95 {f.percentile(95):7.1f} ms  errors {f.errors}{kinds}  "
            f"({len(f.latencies_ms)} ok in {f.seconds:.1f} s)")


def report(baseline: dict[str, Figures], loaded: dict[str, Figures]) -> int:
    errors = 0
    paths = {"entry": "/entry/{slug}", "search": "/api/v1/entries/search?q=...",
             "badge": "/badge/{slug}.svg"}
    for endpoint, path in paths.items():
        base, load = baseline[endpoint], loaded[endpoint]
        print(f"{path}")
        print(_line("baseline", base))
        print(_line("verifying", load))
        print(f"  ratio verifying/baseline: req/s {load.rate / base.rate:.2f}, "
              f"p95 {load.percentile(95) / base.percentile(95):.2f}x")
        errors += base.errors + load.errors
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="per endpoint and phase")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="per endpoint and phase")
    parser.add_argument("--latency-ms", type=int, default=20,
                        help="the stand-in's answer time, seen by the verifier")
    parser.add_argument("--verify-concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    folder = tempfile.TemporaryDirectory(prefix="eurodex-load-")
    path = Path(folder.name) / "load.db"
    ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    stop = mp.Event()
    stand_in = mp.Process(target=_stand_in, args=(ready, stop, args.latency_ms), daemon=True)
    stand_in.start()
    server: subprocess.Popen | None = None
    verifier: Verifier | None = None
    try:
        stand_in_port = ready.get(timeout=30)
        started = time.monotonic()
        slugs, overrides = build_register(path, stand_in_port)
        print(f"register: {len(overrides)} entries ({len(slugs)} approved) from "
              f"{', '.join(SOURCES)} in {time.monotonic() - started:.1f} s; probe URLs on the "
              f"loopback stand-in 127.0.0.1:{stand_in_port} ({args.latency_ms} ms a request)")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*EURODEX, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(path, EURODEX_SCHEDULER="0", EURODEX_API_RATE_LIMIT="0"))
        _wait_for(base + "/healthz", server)
        print(f"eurodex serve at {base}: EURODEX_SCHEDULER=0, EURODEX_API_RATE_LIMIT=0 "
              f"(the API rate limiter is OFF for this bench); {args.clients} concurrent "
              f"clients, {args.seconds:g} s per endpoint and phase")

        baseline = measure(base, slugs, args, args.seed)
        verifier = Verifier(path, overrides, args.verify_concurrency)
        loaded, stored = measure_loaded(base, slugs, args, args.seed, verifier, path)
        verifier.stop()
        print(f"verification meanwhile: `eurodex verify --all --concurrency "
              f"{args.verify_concurrency}` back to back, {verifier.rounds} rounds ended "
              f"({verifier.failed} failed), {stored} checks stored during the phase")
        errors = report(baseline, loaded)
    finally:
        if verifier is not None:
            verifier.stop()
        if server is not None:
            _stop(server)
        stop.set()
        stand_in.join(timeout=10)
        if stand_in.is_alive():
            stand_in.terminate()
            stand_in.join(timeout=5)
        folder.cleanup()
    print(f"errors: {errors} (must be 0)")
    if errors or (verifier is not None and verifier.failed):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
