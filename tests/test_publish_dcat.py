"""The register as DCAT-AP 3.0.1, validated against the official shapes with pyshacl.

The register has api.gouv.fr's APIs, datasets with distributions from data.gouv.fr, GovData
and the ckanext-dcat examples (some of them quarantined or rejected); it is served by a real
uvicorn and its export read over HTTP, as a catalogue harvester would.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyshacl
import pytest
from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from sqlalchemy import select

from eurodex import pipeline
from eurodex.harvest.rdf import parse_graph
from eurodex.model import Status
from eurodex.publish.dcat import DcatExport, turtle_chunks
from eurodex.publish.links import Links
from eurodex.publish.register import approved_entries
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.tables import Entry
from eurodex.web.app import create_app

from .conftest import check_cvec_up

SHAPES = Path(__file__).parent / "fixtures" / "dcat-ap-3.0.1"
SH = Namespace("http://www.w3.org/ns/shacl#")
DQV = Namespace("http://www.w3.org/ns/dqv#")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """Both official shape files; the five dangling references of ranges.ttl are dropped
    (tests/fixtures/dcat-ap-3.0.1/SOURCE.md says why)."""
    graph = Graph()
    for name in ("dcat-ap-SHACL.ttl", "ranges.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    dangling = [t for t in graph.triples((None, SH.property, None))
                if (t[2], None, None) not in graph]
    assert len(dangling) == 5
    for triple in dangling:
        graph.remove(triple)
    return graph


@pytest.fixture
def served(published_store, serve):
    entry_id = check_cvec_up(published_store)
    pipeline.score(published_store, [entry_id])
    app = create_app(Settings(database_url=published_store.url), published_store)
    with serve(app) as running:
        yield running


def _slugs_by_status(store) -> dict[str, set[str]]:
    with store.session() as session:
        rows = session.execute(select(Entry.slug, Entry.status, Entry.kind)).all()
    found: dict[str, set[str]] = {}
    for slug, status, kind in rows:
        found.setdefault(status, set()).add(slug)
        found.setdefault(f"{status}:{kind}", set()).add(slug)
    return found


def _subjects(graph: Graph, rdf_type) -> set[str]:
    return {str(s).rsplit("/entry/", 1)[1] for s in graph.subjects(RDF.type, rdf_type)}


def test_the_whole_register_conforms_to_the_official_dcat_ap_shapes(
        served, published_store, shapes):
    response = httpx.get(served.url + "/api/v1/catalog/dcat.ttl", timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    assert "content-length" not in response.headers  # streamed, never sized up front
    graph = Graph().parse(data=response.text, format="turtle")

    status = _slugs_by_status(published_store)
    # Every approved API is a data service and every approved dataset a dataset; nothing
    # quarantined or rejected is published (methodology 3).
    assert _subjects(graph, DCAT.DataService) == status["APPROVED:API"]
    assert _subjects(graph, DCAT.Dataset) == status["APPROVED:DATASET"]
    assert status.get("QUARANTINED") or status.get("REJECTED")
    published = _subjects(graph, DCAT.DataService) | _subjects(graph, DCAT.Dataset)
    assert not published & (status.get("QUARANTINED", set()) | status.get("REJECTED", set()))
    assert len(list(graph.subjects(RDF.type, DCAT.Distribution))) >= 5

    conforms, _, report = pyshacl.validate(graph, shacl_graph=shapes, inference="rdfs")
    assert conforms, report


def test_a_broken_catalogue_does_not_conform(published_store, shapes):
    """The validation is not vacuous: a data service without its mandatory title fails."""
    now = repo.now_utc()
    export = DcatExport(Links.at("http://register.test"), now)
    graph = Graph().parse(data="".join(turtle_chunks(export, approved_entries(
        published_store, now))), format="turtle")
    service = URIRef("http://register.test/entry/api-cvec")
    graph.remove((service, DCTERMS.title, None))

    conforms, _, report = pyshacl.validate(graph, shacl_graph=shapes, inference="rdfs")
    assert not conforms
    assert "api-cvec" in report and "title" in report


def test_each_entry_carries_its_quality_and_availability_as_dqv_measurements(served):
    graph = Graph().parse(data=httpx.get(served.url + "/api/v1/catalog/dcat.ttl",
                                         timeout=60).text, format="turtle")
    cvec = URIRef(served.url + "/entry/api-cvec")
    values = {}
    for measurement in graph.objects(cvec, DQV.hasQualityMeasurement):
        assert (measurement, RDF.type, DQV.QualityMeasurement) in graph
        assert (measurement, DQV.computedOn, cvec) in graph
        metric = graph.value(measurement, DQV.isMeasurementOf)
        assert (metric, RDF.type, DQV.Metric) in graph  # defined once, in the head
        values[str(metric).rsplit("#metric-", 1)[1]] = graph.value(measurement, DQV.value)
    assert str(values["verification-state"]) == "VERIFIED"
    assert float(values["uptime-30d"]) == 100.0
    assert values["last-check"].toPython().tzinfo is not None
    assert {"officialness", "availability", "metadata-completeness", "licence-clarity",
            "agent-readiness", "quality-score", "quality-tier"} <= values.keys()
    assert int(values["availability"]) == 100  # rescored after its successful check
    # The API's endpoint, its description, its publisher with a name.
    assert graph.value(cvec, DCAT.endpointURL) == URIRef("https://cvec-ctrl.etudiant.gouv.fr")
    publisher = graph.value(cvec, DCTERMS.publisher)
    assert "Centre national des œuvres universitaires" in str(
        graph.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name")))


def test_json_ld_carries_the_same_graph_with_its_context_inline(served):
    turtle = Graph().parse(data=httpx.get(served.url + "/api/v1/catalog/dcat.ttl",
                                          timeout=60).text, format="turtle")
    response = httpx.get(served.url + "/api/v1/catalog/dcat.jsonld", timeout=60)
    assert response.headers["content-type"].startswith("application/ld+json")
    document = json.loads(response.text)
    assert isinstance(document["@context"], dict)  # shipped inline: nothing to fetch
    assert all(value.startswith("http") for value in document["@context"].values())
    # Read as the register reads harvested JSON-LD: any context it would fetch is refused.
    jsonld = parse_graph(response.text, "json-ld")

    def ground(graph: Graph) -> set:
        return {t for t in graph if not any(isinstance(term, BNode) for term in t)}

    assert len(jsonld) == len(turtle)
    # Times of generation differ between the two requests; every other triple is the same.
    generated = URIRef("http://www.w3.org/ns/prov#generatedAtTime")

    def stable(graph: Graph) -> set:
        return {t for t in ground(graph) if t[1] != generated
                and not (t[1] == DCTERMS.modified and str(t[0]).endswith("#catalog"))}

    assert stable(jsonld) == stable(turtle)

def test_the_export_is_written_entry_by_entry(published_store):
    now = repo.now_utc()
    chunks = turtle_chunks(DcatExport(Links.at("http://register.test"), now),
                           approved_entries(published_store, now, batch=7))
    with published_store.session() as session:
        approved = len(session.scalars(select(Entry.id).where(
            Entry.status == Status.APPROVED.value)).all())
    assert sum(1 for _ in chunks) == approved + 2  # prefixes, catalogue, one per entry
