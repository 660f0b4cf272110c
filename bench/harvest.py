"""Harvest speed and memory on a large DCAT-AP Turtle catalogue, against rdflib alone.

Generates a catalogue of N datasets (100,000 by default) in a temporary folder, using the
real records shipped in the package (Rostock via GovData, datos.gob.es, London Datastore,
and the multilingual example) as templates with fresh URIs, then measures in separate
subprocesses, one after the other in this run:

* eurodex: the DCAT-AP harvester streaming the file chunk by chunk into a temporary SQLite
  register (the whole pipeline: upsert, provenance, distributions, proofs, admission);
* baseline: rdflib parsing the same file into one in-memory graph, nothing else.

Each prints datasets per second and peak memory (the child's peak resident set size from
``resource.getrusage``), and the ratios. Everything is bounded: the file size follows N,
each subprocess has a time limit, and the temporary folder is removed at the end.

    .venv/bin/python bench/harvest.py [--datasets N] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from rdflib import Graph

TEMPLATES = ("dataset_gov_de.rdf", "dataset_gob_es.ttl", "dataset_deri.ttl",
             "dataset_multilingual.ttl")


def _template_blocks() -> list[tuple[str, str]]:
    """(prefix lines, body) of each real record, as Turtle."""
    folder = Path(str(resources.files("eurodex") / "snapshots/ckanext-dcat-examples/dcat"))
    blocks = []
    for name in TEMPLATES:
        graph = Graph()
        graph.parse(folder / name, format="xml" if name.endswith(".rdf") else "turtle")
        text = graph.serialize(format="turtle")
        prefixes = "".join(line + "\n" for line in text.splitlines()
                           if line.startswith("@prefix"))
        body = "\n".join(line for line in text.splitlines() if not line.startswith("@prefix"))
        blocks.append((prefixes, body.strip() + "\n\n"))
    return blocks


def generate(path: Path, count: int) -> int:
    """Write ``count`` datasets; URIs get a per-copy suffix so every dataset is distinct."""
    blocks = _template_blocks()
    prefixes = "".join(dict.fromkeys(p for block, _ in blocks for p in block.splitlines(True)))
    with path.open("w", encoding="utf-8") as out:
        out.write(prefixes + "\n")
        for i in range(count):
            _, body = blocks[i % len(blocks)]
            out.write(body.replace('"@', f' {i}"@', 1).replace("/dataset/", f"/dataset/copy{i}-")
                      .replace("datos.gob.es/catalogo/", f"datos.gob.es/catalogo/copy{i}-")
                      .replace("data.london.gov.uk/dataset/", f"data.london.gov.uk/dataset/c{i}-")
                      .replace("/datafiles/", f"/datafiles/c{i}-"))
    return path.stat().st_size


EUR0DEX_CHILD = """
import json, resource, sys, time
from pathlib import Path
from eurodex import pipeline
from eurodex.harvest.dcat import DcatHarvester
from eurodex.store.db import Store
path, db = Path(sys.argv[1]), sys.argv[2]
store = Store(f"sqlite:///{db}"); store.migrate()
harvester = DcatHarvester(slug="bench", name="bench", path=path, trusted=True,
                          languages=["en", "es", "de"])
started = time.perf_counter()
report = pipeline.harvest(store, harvester)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"datasets": report.new + report.updated, "failed": report.failed,
                  "seconds": elapsed, "peak_bytes": peak}))
"""

RDFLIB_CHILD = """
import json, resource, sys, time
from rdflib import Graph
from rdflib.namespace import DCAT, RDF
started = time.perf_counter()
graph = Graph(); graph.parse(sys.argv[1], format="turtle")
datasets = sum(1 for _ in graph.subjects(RDF.type, DCAT.Dataset))
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"datasets": datasets, "triples": len(graph), "seconds": elapsed,
                  "peak_bytes": peak}))
"""


def measure(code: str, args: list[str], timeout: float) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds each measurement may take before the bench stops")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eurodex-bench-") as tmp:
        catalogue = Path(tmp) / "catalogue.ttl"
        started = time.perf_counter()
        size = generate(catalogue, options.datasets)
        print(f"catalogue: {options.datasets:,} datasets, {size / 1e6:.1f} MB Turtle, "
              f"written in {time.perf_counter() - started:.1f} s", flush=True)
        # Each figure is printed as soon as it is measured: rdflib alone on a large file
        # takes long enough that a run stopped early should still say what it saw.
        ours = measure(EUR0DEX_CHILD, [str(catalogue), str(Path(tmp) / "bench.db")],
                       options.timeout)
        rate_ours = ours["datasets"] / ours["seconds"]
        print(f"eurodex harvest (parse + store in SQLite): {ours['datasets']:,} datasets "
              f"({ours['failed']} failed) in {ours['seconds']:.1f} s = {rate_ours:,.0f} "
              f"datasets/s, peak memory {ours['peak_bytes'] / 1e6:,.0f} MB", flush=True)
        base = measure(RDFLIB_CHILD, [str(catalogue)], options.timeout)
    rate_base = base["datasets"] / base["seconds"]
    print(f"rdflib parse alone (one graph, {base['triples']:,} triples): "
          f"{base['datasets']:,} datasets in {base['seconds']:.1f} s = {rate_base:,.0f} "
          f"datasets/s, peak memory {base['peak_bytes'] / 1e6:,.0f} MB")
    print(f"ratio eurodex/rdflib: speed {rate_ours / rate_base:.2f}x, "
          f"peak memory {ours['peak_bytes'] / base['peak_bytes']:.2f}x")

if __name__ == "__main__":
    main()
