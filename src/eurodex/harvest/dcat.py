"""Harvester for DCAT-AP catalogues in Turtle, RDF/XML or JSON-LD, from files or a portal.

Files: every RDF file of a folder (or one file); a file that does not parse is reported as a
RecordError naming it, and the others are read. A Turtle file larger than one chunk is read
in chunks (see ``turtle_chunks``), with the triples of a dataset whose distributions are
described further down carried into the next chunk, so memory depends on the chunk size,
not the file size.

Live: the catalogue URL, then each Hydra ``next``/``nextPage`` page in turn, fetched through
the guarded client. A page that cannot be read ends the harvest with a HarvestError; the
pipeline keeps everything already stored and records the run as partial.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCAT, FOAF, RDF

from eurodex.harvest.datasets import dataset_candidate
from eurodex.harvest.dcat_extract import DcatReader
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.limits import read_document
from eurodex.harvest.rdf import Languages, format_for, next_page, parse_graph
from eurodex.harvest.records import Candidate, HarvestError, InstitutionRecord, RecordError
from eurodex.harvest.turtle_chunks import DEFAULT_CHUNK_BYTES, iter_turtle_chunks

log = logging.getLogger("eurodex.harvest")

MAX_PAGES = 100_000
# Triples carried between chunks before incomplete datasets are given up on (memory bound).
MAX_CARRY_TRIPLES = 200_000
# rdflib's store for a chunk: no named graphs, so adding and finding triples costs less.
CHUNK_STORE = "SimpleMemory"
DATASET_TYPES = (DCAT.Dataset, URIRef("http://schema.org/Dataset"),
                 URIRef("https://schema.org/Dataset"))
DISTRIBUTION_PREDICATES = (DCAT.distribution, URIRef("http://schema.org/distribution"),
                           URIRef("https://schema.org/distribution"))
AGENT_TYPES = {FOAF.Organization, FOAF.Agent, FOAF.Person,
               URIRef("http://www.w3.org/2006/vcard/ns#Organization"),
               URIRef("http://www.w3.org/2006/vcard/ns#Kind"),
               URIRef("http://www.w3.org/2006/vcard/ns#Individual")}


class DcatHarvester:
    """DCAT-AP datasets from a folder of RDF files, one file, or a Hydra-paged catalogue."""

    source_format = "dcat-ap"

    def __init__(
        self,
        *,
        slug: str,
        name: str,
        path: Path | None = None,
        url: str | None = None,
        fetcher: PageFetcher | None = None,
        trusted: bool = False,
        languages: Sequence[str] = ("en",),
        country: str | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        if path is None and url is None:
            raise HarvestError(f"{name}: neither a snapshot path nor a URL to harvest")
        if path is not None and not path.exists():
            raise HarvestError(f"{name}: {path} does not exist")
        self.source_slug, self.source_name, self.trusted = slug, name, trusted
        self.source_url = url
        self.path, self.url = path, url
        self.fetcher = fetcher
        self.reader = DcatReader(Languages(languages), name)
        self.country = country
        self.chunk_bytes = chunk_bytes
        self.files_read = 0
        self.pages_read = 0

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        return iter(())  # publishers come with each dataset (Candidate.institution)

    def candidates(self) -> Iterator[Candidate | RecordError]:
        if self.path is not None:
            yield from self._from_files()
        else:
            yield from self._from_portal()

    # -- files -----------------------------------------------------------------------------

    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.is_file() and format_for(p.name))

    def _from_files(self) -> Iterator[Candidate | RecordError]:
        for path in self.files():
            rdf_format = format_for(path.name)
            if rdf_format == "turtle" and path.stat().st_size > self.chunk_bytes:
                yield from self._from_large_turtle(path)
                continue
            try:
                graph = parse_graph(read_document(path), rdf_format, base=path.as_uri())
            except ValueError as exc:
                log.warning("%s: skipped %s: %s", self.source_name, path.name, exc)
                yield RecordError(self.source_name, path.name, str(exc))
                continue
            self.files_read += 1
            yield from self._from_graph(graph)

    def _from_graph(self, graph: Graph, nodes=None) -> Iterator[Candidate | RecordError]:
        for facts in self.reader.datasets(graph, nodes):
            if self.country and not facts.country:
                facts.country = self.country
            yield dataset_candidate(facts, self.source_name)

    def _from_large_turtle(self, path: Path) -> Iterator[Candidate | RecordError]:
        carry = Graph(store=CHUNK_STORE)
        for chunk in iter_turtle_chunks(path, self.chunk_bytes):
            try:
                graph = parse_graph(chunk.text, "turtle", base=path.as_uri(),
                                    store=CHUNK_STORE)
            except ValueError as exc:
                yield RecordError(self.source_name,
                                  f"{path.name} lines {chunk.first_line}-{chunk.last_line}",
                                  str(exc))
                continue
            for triple in carry:
                graph.add(triple)
            done, carry = _complete_datasets(graph, final=False)
            yield from self._from_graph(graph, done)
            if len(carry) > MAX_CARRY_TRIPLES:
                log.warning("%s: %s: %d triples wait for their dataset; reading them as they "
                            "are", self.source_name, path.name, len(carry))
                done, _ = _complete_datasets(carry, final=True)
                yield from self._from_graph(carry, done)
                carry = Graph(store=CHUNK_STORE)
        self.files_read += 1
        done, _ = _complete_datasets(carry, final=True)
        yield from self._from_graph(carry, done)

    # -- portal ----------------------------------------------------------------------------

    def _from_portal(self) -> Iterator[Candidate | RecordError]:
        fetcher = self.fetcher or PageFetcher()
        url: str | None = self.url
        seen: set[str] = set()
        try:
            while url and url not in seen and len(seen) < MAX_PAGES:
                seen.add(url)
                body = fetcher.get(url)
                rdf_format = format_for(url) or _sniff(body)
                try:
                    graph = parse_graph(body, rdf_format, base=url)
                except ValueError as exc:
                    raise HarvestError(f"{url}: {exc}") from exc
                self.pages_read += 1
                yield from self._from_graph(graph)
                following = next_page(graph)
                url = following if following and following not in seen else None
        finally:
            if self.fetcher is None:
                fetcher.close()


def _sniff(body: bytes) -> str:
    head = body[:200].lstrip()
    if head.startswith((b"{", b"[")):
        return "json-ld"
    if head.startswith(b"<"):
        return "xml"
    return "turtle"


def _closure(graph: Graph, node, into: set, referenced: set) -> None:
    """``node`` and every node it reaches through blank nodes or its distributions; the
    other named nodes it mentions (publishers, licences, types...) go to ``referenced``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current in into:
            continue
        into.add(current)
        for predicate, value in graph.predicate_objects(current):
            if isinstance(value, BNode) or (predicate in DISTRIBUTION_PREDICATES
                                            and isinstance(value, URIRef)):
                stack.append(value)
            elif isinstance(value, URIRef):
                referenced.add(value)


def _complete_datasets(graph: Graph, *, final: bool) -> tuple[list, Graph]:
    """The datasets of ``graph`` whose distributions are all described, and what to carry.

    The datasets are read from ``graph`` itself (copying them out would cost as much as
    parsing them); the carry holds the triples of the other datasets, and the publishers and
    contact points shared with datasets further down. With ``final`` every dataset counts
    as complete and nothing is carried. Catalogue membership triples are never carried,
    since they would otherwise grow with every chunk.
    """
    done, used, mentioned = [], set(), set()
    for node in _dataset_subjects(graph):
        dists = [d for p in DISTRIBUTION_PREDICATES for d in graph.objects(node, p)
                 if isinstance(d, URIRef)]
        if final or all((d, None, None) in graph for d in dists):
            done.append(node)
            _closure(graph, node, used, mentioned)
    carry = Graph(store=CHUNK_STORE)
    if final:
        return done, carry
    referenced = {value for value in mentioned - used if (value, None, None) in graph}
    # Publishers and contact points are often named nodes shared by many datasets: they are
    # given to the datasets done now and also carried, for datasets further down.
    shared = {node for node in referenced
              if any(t in AGENT_TYPES for t in graph.objects(node, RDF.type))}
    consumed = used | (referenced - shared)
    for subject in set(graph.subjects(unique=True)) - consumed:
        for predicate, value in graph.predicate_objects(subject):
            if predicate != DCAT.dataset:
                carry.add((subject, predicate, value))
    return done, carry


def _dataset_subjects(graph: Graph) -> set:
    return {node for kind in DATASET_TYPES for node in graph.subjects(RDF.type, kind)}
