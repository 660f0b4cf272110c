"""Memory and time of the streamed DCAT-AP export against building one whole graph.

Why: the export is written entry by entry so that a large register never sits in memory.
This measures what that saves next to the obvious alternative, one rdflib graph of the
whole catalogue serialised at once, on the same database in the same run: each runs in a
fresh child process, which reports its wall time and its peak resident memory.

    .venv/bin/python bench/publish.py [--database sqlite:///eurodex.db]

Without ``--database`` it harvests every shipped snapshot into a temporary database first
(about 2,250 approved entries; a minute or so). Bounded: each phase runs once, under a
deadline, and its process is always ended.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

from eurodex import cli_sources, pipeline
from eurodex.publish.dcat import DcatExport, turtle_chunks
from eurodex.publish.links import Links
from eurodex.publish.register import approved_entries
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store

PHASE_DEADLINE_S = 600.0


def _register(url: str | None, folder: Path) -> Store:
    if url:
        return Store(url)
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}")
    store = Store(settings.database_url)
    store.migrate()
    configs = [c for c in cli_sources.configured_sources(settings) if c.enabled and c.snapshot]
    cli_sources.harvest_sources(store, settings, configs)
    pipeline.score(store)
    return store


def _phase(url: str, whole: bool, results) -> None:
    """One export in a fresh process: (seconds, bytes of Turtle, peak RSS in KiB)."""
    store = Store(url)
    now = repo.now_utc()
    export = DcatExport(Links.at("https://register.test"), now)
    started = time.perf_counter()
    if whole:
        graph = export.catalog_graph()
        for item in approved_entries(store, now):
            if (entry := export.entry_graph(item)) is not None:
                graph += entry
        size = len(graph.serialize(format="turtle"))
    else:
        size = sum(len(chunk) for chunk in turtle_chunks(export, approved_entries(store, now)))
    elapsed = time.perf_counter() - started
    results.put((elapsed, size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _measure(url: str, whole: bool) -> tuple[float, int, int]:
    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_phase, args=(url, whole, results))
    process.start()
    try:
        return results.get(timeout=PHASE_DEADLINE_S)
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL of an existing register")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        store = _register(args.database, Path(folder))
        now = repo.now_utc()
        entries = sum(1 for _ in approved_entries(store, now, with_details=False))
        store.dispose()
        stream_s, stream_size, stream_rss = _measure(store.url, whole=False)
        whole_s, whole_size, whole_rss = _measure(store.url, whole=True)
    print(f"approved entries: {entries}")
    print(f"streamed:    {stream_s:6.1f} s, peak RSS {stream_rss / 1024:7.1f} MiB, "
          f"{stream_size / 2**20:.1f} MiB of Turtle")
    print(f"whole graph: {whole_s:6.1f} s, peak RSS {whole_rss / 1024:7.1f} MiB, "
          f"{whole_size / 2**20:.1f} MiB of Turtle")
    print(f"ratio (streamed / whole graph): time {stream_s / whole_s:.2f}, "
          f"peak memory {stream_rss / whole_rss:.2f}")


if __name__ == "__main__":
    main()
