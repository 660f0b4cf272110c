"""Latency of /api/v1/entries/search against the bare FTS5 query, on 100,000 entries.

Why: a search request does more than match words: it validates, filters, counts six facets
over every match, orders, loads one page of entries and serialises them. This measures what
all that costs next to the least the database can do for the same words (an FTS5 MATCH
ordered by rank, one page of rowids), on the same database in the same run.

The database is filled with generated entries built from the real api.gouv.fr records shipped
with eurodex: names, summaries, description excerpts, tags and topics of those records, spread
over invented institutions in eighteen countries, with scores, tiers and states. Rows go in
through plain INSERTs, so the search triggers index them exactly as they index a harvest.

The API is served by uvicorn in a child process on 127.0.0.1 (its per-client rate limit off)
and queried by an httpx client one request at a time; the bare query runs in this process
with the stdlib sqlite3 module.

    .venv/bin/python bench/search.py [--entries 100000] [--queries 300] [--keep DB]

Bounded: generation, serving and each measuring phase run under deadlines, and the server
process is always stopped.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from eurodex.harvest.apigouvfr import ApiGouvFrHarvester
from eurodex.harvest.records import Candidate, InstitutionRecord
from eurodex.score.composite import tier_for
from eurodex.search.query import SearchQuery
from eurodex.search.sqlite import match_expression
from eurodex.store.db import Store
from eurodex.store.repository import slugify
from eurodex.store.tables import Entry, Institution, Score, Source

PHASE_DEADLINE_S = 300.0
COUNTRIES = ("FR", "DE", "NL", "ES", "IT", "BE", "AT", "PL", "SE", "DK", "FI", "IE", "PT",
             "LU", "CZ", "GR", "HU", "EU")
PLACES = ("Paris", "Lyon", "Berlin", "Hamburg", "Amsterdam", "Utrecht", "Madrid", "Sevilla",
          "Roma", "Milano", "Bruxelles", "Wien", "Kraków", "Göteborg", "Århus", "Tampere",
          "Cork", "Porto", "Esch-sur-Alzette", "Brno", "Thessaloníki", "Debrecen", "Nantes",
          "Île-de-France", "Bretagne", "Occitanie", "Bayern", "Zeeland", "Andalucía", "Toscana")
INSTITUTION_TYPES = ("GOVERNMENT", "AGENCY", "REGION", "MUNICIPALITY", "EU_INSTITUTION",
                     "OTHER_PUBLIC")
STATES = ("VERIFIED", "VERIFIED", "VERIFIED", "STALE", "FAILING", "UNVERIFIED")
AXES = ("officialness", "availability", "metadata_completeness", "licence_clarity",
        "agent_readiness")
# Words people type: frequent and rare, accented and not, prefixes, two-word queries.
TERMS = ("données", "donnees", "entreprise", "api", "transport", "santé", "sante",
         "énergie", "education", "adresse", "cadastre", "étudiant", "emploi", "légifrance",
         "météo", "geo*", "entrepr*", "données ouvertes", "api entreprise", "carte grise",
         "Bretagne", "cnous", "impots", "INSEE", "siret", "bibliographie", "eau potable",
         "qualité air", "urbanisme", "Berlin")


def _excerpt(description: str | None, rng: random.Random) -> str:
    """A few hundred characters of a real description, cut at word boundaries."""
    if not description:
        return ""
    start = rng.randrange(0, max(1, len(description) - 400))
    start = description.find(" ", start) + 1 if start else 0
    piece = description[start:start + 600]
    return piece[: piece.rfind(" ")] if " " in piece else piece


def generate(store: Store, n_entries: int, seed: int = 7) -> None:
    """Fill ``store`` with ``n_entries`` approved-or-not entries made from the real records."""
    rng = random.Random(seed)
    harvester = ApiGouvFrHarvester()
    templates = [c for c in harvester.candidates() if isinstance(c, Candidate)]
    producers = [r for r in harvester.institutions() if isinstance(r, InstitutionRecord)]
    now = datetime.now(UTC)
    with store.session() as session:
        source = Source(slug="bench", name="bench", format="generated", url=None, trusted=True,
                        created_at=now)
        session.add(source)
        session.flush()
        source_id = source.id
        institutions = []
        for i in range(2_000):
            producer = rng.choice(producers)
            place = rng.choice(PLACES)
            institutions.append({
                "slug": f"{slugify(producer.key)}-{i}", "country": rng.choice(COUNTRIES),
                "name": f"{producer.fields['name'].value} {place}",
                "acronym": f"{producer.key.upper()[:8]}{i}",
                "type": rng.choice(INSTITUTION_TYPES), "official_domains": [],
                "github_orgs": [], "created_at": now, "updated_at": now,
            })
        session.execute(insert(Institution), institutions)
        institution_ids = list(session.scalars(text("SELECT id FROM institutions")))

    batch = 5_000
    for first in range(0, n_entries, batch):
        entries = []
        for i in range(first, min(first + batch, n_entries)):
            template = rng.choice(templates)
            name = f"{template.value('name')} – {rng.choice(PLACES)}"
            checked = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
            entries.append({
                "slug": f"{slugify(template.record_id)}-{i}", "kind": rng.choice(("API",
                                                                                 "DATASET")),
                "name": name, "summary": template.value("summary"),
                "description": _excerpt(template.value("description"), rng),
                "institution_id": rng.choice(institution_ids),
                "country": rng.choice(COUNTRIES), "topics": template.value("topics") or [],
                "tags": template.value("tags") or [], "source_id": source_id,
                "record_id": f"bench-{i}", "status": "APPROVED" if rng.random() < 0.95 else
                "QUARANTINED", "status_reason": "generated", "state": rng.choice(STATES),
                "consecutive_failures": 0, "last_check_at": checked, "created_at": now,
                "updated_at": now,
            })
        with store.session() as session:
            session.execute(insert(Entry), entries)
    with store.session() as session:
        ids = list(session.scalars(text("SELECT id FROM entries")))
        scores = []
        for entry_id in ids:
            axes = {axis: rng.randrange(0, 101) for axis in AXES}
            exact = (0.25 * axes["officialness"] + 0.25 * axes["availability"]
                     + 0.2 * axes["metadata_completeness"] + 0.15 * axes["licence_clarity"]
                     + 0.15 * axes["agent_readiness"])
            composite = round(exact)
            scores.append({"entry_id": entry_id, **axes, "sentences": {},
                           "composite": composite, "composite_exact": exact,
                           "tier": tier_for(composite), "computed_at": now})
        session.execute(insert(Score), scores)


def _queries(n: int, seed: int = 11) -> list[dict[str, str]]:
    """Search parameters: words alone, words with a facet, facets alone, other sorts."""
    rng = random.Random(seed)
    facets = ({"country": "FR"}, {"kind": "DATASET"}, {"topic": "ECON"}, {"tier": "good"},
              {"state": "VERIFIED"}, {"institution_type": "REGION"},
              {"country": "DE", "topic": "TRAN"})
    queries = []
    for i in range(n):
        params: dict[str, str] = {"limit": "20"}
        if i % 10 != 9:
            params["q"] = rng.choice(TERMS)
        if i % 3 == 1:
            params.update(rng.choice(facets))
        if i % 7 == 3:
            params["sort"] = rng.choice(("score", "checked"))
        if i % 11 == 5:
            params["offset"] = "40"
        queries.append(params)
    return queries


def _serve(url: str, port: int) -> None:
    """Child process: the register's app under uvicorn, until terminated."""
    import uvicorn

    from eurodex.settings import Settings
    from eurodex.web.app import create_app

    # The per-client API rate limit is off: one client sends every query, as fast as it can.
    app = create_app(Settings(database_url=url, api_rate_per_minute=0), Store(url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def measure_api(base: str, queries: list[dict[str, str]]) -> list[float]:
    deadline = time.monotonic() + PHASE_DEADLINE_S
    timings = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for params in queries[:20]:  # warm up: first connections, caches, imports
            client.get("/api/v1/entries/search", params=params).raise_for_status()
        for params in queries:
            if time.monotonic() > deadline:
                print("api phase: deadline reached, measuring what was done")
                break
            start = time.perf_counter()
            client.get("/api/v1/entries/search", params=params).raise_for_status()
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def measure_bare(path: Path, queries: list[dict[str, str]]) -> list[float]:
    """The least the database does for the same words: MATCH, rank, one page of rowids."""
    deadline = time.monotonic() + PHASE_DEADLINE_S
    connection = sqlite3.connect(path)
    timings = []
    worded = [q for q in queries if q.get("q")]
    try:
        for params in worded:
            if time.monotonic() > deadline:
                print("bare phase: deadline reached, measuring what was done")
                break
            match = match_expression(SearchQuery(text=params["q"]).terms)
            start = time.perf_counter()
            connection.execute(
                "SELECT rowid FROM entry_fts WHERE entry_fts MATCH ? ORDER BY rank LIMIT 20",
                (match,),
            ).fetchall()
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database at this path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    folder = tempfile.TemporaryDirectory(prefix="eurodex-bench-")
    path = args.keep or Path(folder.name) / "bench.db"
    url = f"sqlite:///{path}"
    store = Store(url)
    reuse = args.keep is not None and path.exists() and path.stat().st_size > 0
    store.migrate()
    if not reuse:
        start = time.monotonic()
        generate(store, args.entries)
        print(f"generated {args.entries} entries in {time.monotonic() - start:.1f} s")
    with store.session() as session:
        approved = session.scalar(text("SELECT count(*) FROM entry_facets"))
    store.dispose()
    print(f"database {path}: {approved} approved entries indexed")

    queries = _queries(args.queries)
    port = _free_port()
    server = mp.get_context("spawn").Process(target=_serve, args=(url, port), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or not server.is_alive():
                    raise SystemExit("the web app did not start within 60 s") from None
                time.sleep(0.2)
        api = measure_api(base, queries)
    finally:
        server.terminate()
        server.join(timeout=10)
    bare = measure_bare(path, queries)
    folder.cleanup()

    api_p50, api_p95 = _percentiles(api)
    bare_p50, bare_p95 = _percentiles(bare)
    print(f"api  /api/v1/entries/search: {len(api)} requests, p50 {api_p50:.1f} ms, "
          f"p95 {api_p95:.1f} ms (target p95 <= 50 ms)")
    print(f"bare FTS5 MATCH ... ORDER BY rank LIMIT 20: {len(bare)} queries, "
          f"p50 {bare_p50:.2f} ms, p95 {bare_p95:.2f} ms")
    print(f"ratio api/bare: p50 {api_p50 / bare_p50:.1f}x, p95 {api_p95 / bare_p95:.1f}x")


if __name__ == "__main__":
    main()
