"""Fuzzing the readers of harvested input with hypothesis: front matter (api.gouv.fr), CKAN,
udata, DCAT-AP (Turtle, RDF/XML, JSON-LD) and OpenAPI.

Inputs are arbitrary bytes and JSON values, and the shipped snapshots mutated: bytes flipped,
cut, repeated or spliced with tokens that break parsers; JSON subtrees swapped for values of
any type. Whatever comes in, a reader must yield candidates or :class:`RecordError`s naming
its source, and raise nothing but its documented error type; it must finish within
:data:`LIMIT_S` (a watchdog thread tells a hang from a slow example); and it must never open
a connection (the loopback tests at the end serve a remote JSON-LD context, an XML external
entity and a remote ``$ref``, and check that no request arrives).

The number of examples is bounded by the ``eurodex-fuzz`` profile below (set
``EURODEX_FUZZ_EXAMPLES`` to go deeper locally); under CI=true the examples are derandomised
so that a run is repeatable.
"""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from eurodex.harvest.apigouvfr import ApiGouvFrHarvester, shipped_snapshot
from eurodex.harvest.ckan import CkanHarvester
from eurodex.harvest.dcat import DcatHarvester
from eurodex.harvest.frontmatter_reader import FrontMatterError, read_front_matter
from eurodex.harvest.rdf import parse_graph
from eurodex.harvest.records import Candidate, HarvestError, InstitutionRecord, RecordError
from eurodex.harvest.udata import UdataHarvester
from eurodex.schema.errors import SchemaCaptureError
from eurodex.schema.openapi import capture_openapi

SNAPSHOTS = Path(__file__).resolve().parents[1] / "src" / "eurodex" / "snapshots"
LIMIT_S = 20.0  # far above any real parse here (milliseconds); only a hang gets near it

settings.register_profile(
    "eurodex-fuzz",
    max_examples=int(os.environ.get("EURODEX_FUZZ_EXAMPLES", "40")),
    deadline=None,  # the watchdog below bounds each example instead
    derandomize=os.environ.get("CI") == "true",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture,
                           HealthCheck.large_base_example],
)
FUZZ = settings.get_profile("eurodex-fuzz")


def bounded(read: Callable[[], object]) -> object:
    """``read()`` in a watchdog thread; a failure (not a stuck suite) when it hangs."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = read()
        except BaseException as exc:  # handed back to the test thread as it was
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(LIMIT_S)
    if thread.is_alive():
        raise AssertionError(f"a reader was still busy after {LIMIT_S} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


# -- inputs -----------------------------------------------------------------------------------


def seeds(folder: Path, pattern: str, max_bytes: int = 60_000) -> list[bytes]:
    found = [p.read_bytes() for p in sorted(folder.glob(pattern)) if p.stat().st_size <= max_bytes]
    assert found, f"no seed in {folder}/{pattern}"
    return found


# Tokens that derail parsers: structure, YAML anchors and tags, numbers out of range,
# entities, JSON-LD keywords, unpaired surrogates as escapes, NULs.
TOKENS = [b"{", b"}", b"[", b"]", b'"', b"'", b":", b",", b"\n- ", b"---\n", b"&a ", b"*a",
          b"!!python/object:os.system", b"!!binary", b"1e999", b"-1e999", b"NaN", b"null",
          b"\x00", b"\xff\xfe", b"\\ud800", b"<!ENTITY x SYSTEM 'http://127.0.0.1:9/x'>",
          b"&x;", b"<", b"/>", b"@prefix : <http://x/> .", b"_:b", b"\"@context\"",
          b"\"@id\"", b"\"$ref\"", b"'''", b"\"\"\"", b"^^", b"@en", b"#", b"\t", b" " * 64,
          b"9" * 400]


@st.composite
def mutated(draw, originals: list[bytes]) -> bytes:
    """A real document with a few byte-level mutations."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "insert", "token", "cut", "repeat"]))
        if operation == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif operation == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif operation == "cut":
            data[at:at + draw(st.integers(1, 200))] = b""
        elif operation == "repeat":
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 300))]) * draw(
                st.integers(1, 5))
    return bytes(data)


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
    | st.sampled_from(["http://127.0.0.1/x", "https://example.org/a b", "2024-13-45",
                       "9" * 400, "", " ", "{\"a\": [1]}", "[1,2", "\x00"])
)
# Scalars as often as collections: a field that should be a list and is a number is the
# commonest way a real catalogue surprises a reader.
JSON_VALUES = JSON_SCALARS | st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _slots(node: object, found: list) -> list:
    """Every (container, key) of a parsed JSON document, for swapping one value."""
    if isinstance(node, dict):
        for key in node:
            found.append((node, key))
            _slots(node[key], found)
    elif isinstance(node, list):
        for index in range(len(node)):
            found.append((node, index))
            _slots(node[index], found)
    return found


@st.composite
def json_mutated(draw, originals: list[bytes]) -> bytes:
    """A real JSON document with a few values replaced by JSON values of any type."""
    document = json.loads(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 5))):
        slots = _slots(document, [])
        if not slots:
            document = draw(JSON_VALUES)
            break
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        container[key] = draw(JSON_VALUES)
    return json.dumps(document).encode()


YAML_VALUES = st.recursive(
    st.text(max_size=40) | st.sampled_from(["", "-1", "1.10", "no", "31/02/2024", "/swaggers/"
                                            "../../../etc/passwd", "http://127.0.0.1/"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=10,
)


@st.composite
def front_matter_mutated(draw, originals: list[bytes]) -> bytes:
    """A real front-matter file whose fields are given values of other shapes."""
    document = read_front_matter_text(draw(st.sampled_from(originals)))
    metadata, body = document
    keys = sorted(metadata) + ["title", "producer", "doc_tech_link", "keywords", "themes"]
    for _ in range(draw(st.integers(1, 5))):
        metadata[draw(st.sampled_from(keys))] = draw(YAML_VALUES)
    head = yaml.safe_dump(metadata, allow_unicode=True)
    return f"---\n{head}---\n{body}".encode()


def read_front_matter_text(data: bytes) -> tuple[dict, str]:
    found = re.match(r"\s*---\s*\n(.*?)\n---\s*\n(.*)", data.decode("utf-8"), re.DOTALL)
    if not found:
        return {}, data.decode("utf-8")
    metadata = yaml.load(found.group(1), Loader=yaml.BaseLoader)
    return (metadata if isinstance(metadata, dict) else {}), found.group(2)


def _typed(lexical: str, datatype: URIRef) -> Literal:
    with warnings.catch_warnings():  # rdflib warns about an ill-typed value: that is the point
        warnings.simplefilter("ignore", UserWarning)
        return Literal(lexical, datatype=datatype)


RDF_TERMS = st.one_of(
    st.text(max_size=30).map(Literal),
    st.tuples(st.text(max_size=20), st.sampled_from(["en", "de-AT", "x-" + "a" * 30, "fr"])
              ).map(lambda t: Literal(t[0], lang=t[1])),
    st.tuples(st.text(max_size=20), st.sampled_from([XSD.integer, XSD.dateTime, XSD.date,
                                                     XSD.decimal, XSD.boolean, XSD.gYear])
              ).map(lambda t: _typed(*t)),
    st.sampled_from([URIRef("http://127.0.0.1/admin"), URIRef("mailto:"), URIRef("urn:x"),
                     URIRef("https://example.org/" + "a" * 300), BNode(),
                     _typed("2024-02-30", XSD.date), Literal(10**40)]),
)


@st.composite
def rdf_mutated(draw, graphs: list[Graph], rdf_format: str) -> bytes:
    """A real DCAT document whose objects are swapped for terms of any kind, or dropped."""
    graph = Graph()
    for triple in draw(st.sampled_from(graphs)):
        graph.add(triple)
    triples = sorted(graph, key=repr)
    for _ in range(draw(st.integers(1, 8))):
        subject, predicate, obj = triples[draw(st.integers(0, len(triples) - 1))]
        graph.remove((subject, predicate, obj))
        if draw(st.booleans()):
            graph.add((subject, predicate, draw(RDF_TERMS)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            # N-Triples is Turtle too, and its writer never reinterprets a literal's value.
            return graph.serialize(format="nt" if rdf_format == "turtle" else rdf_format
                                   ).encode()
        except Exception:  # noqa: BLE001 - rdflib's writer refusing a term: not our reader
            reject()


def documents(originals: list[bytes], *, structured: bool = True) -> st.SearchStrategy[bytes]:
    json_originals = [o for o in originals if o.lstrip()[:1] in (b"{", b"[")]
    options = [mutated(originals), st.binary(max_size=3000),
               st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
               JSON_VALUES.map(lambda v: json.dumps(v).encode())]
    if structured and json_originals:
        options.append(json_mutated(json_originals))
    return st.one_of(options)


# -- what every reader owes -----------------------------------------------------------------


def assert_records(items: Iterable[object], source: str) -> list[object]:
    """Only candidates, institutions and record errors that name the source."""
    items = list(items)
    for item in items:
        assert isinstance(item, Candidate | InstitutionRecord | RecordError), item
        if isinstance(item, RecordError):
            assert item.source == source, item
            assert item.record and item.reason, item
        if isinstance(item, Candidate):
            assert item.record_id and isinstance(item.record_id, str)
            for name, value in item.fields.items():
                assert value.value is not None, name
            for distribution in item.distributions:
                assert isinstance(distribution.url, str), distribution
    return items


def harvest_all(harvester, source: str) -> list[object]:
    def read() -> list[object]:
        try:
            return [*harvester.institutions(), *harvester.candidates()]
        except HarvestError as exc:  # the documented whole-source failure
            assert source in str(exc) or str(harvester.path) in str(exc), exc
            return []

    return assert_records(bounded(read), source)


# -- front matter (api.gouv.fr) ---------------------------------------------------------------

API_GOUV = shipped_snapshot()
FRONT_MATTER_SEEDS = seeds(API_GOUV / "api", "*.md", 8_000) + seeds(
    API_GOUV / "producteurs", "*.md", 4_000)
FRONT_MATTER = st.one_of(documents(FRONT_MATTER_SEEDS, structured=False),
                         front_matter_mutated(FRONT_MATTER_SEEDS))


@FUZZ
@given(document=FRONT_MATTER)
def test_front_matter_reader_raises_only_its_error_naming_the_file(tmp_path, document):
    path = tmp_path / "fuzzed.md"
    path.write_bytes(document)
    try:
        found = bounded(lambda: read_front_matter(path))
    except FrontMatterError as exc:
        assert str(exc).startswith("fuzzed.md: "), exc
    else:
        assert isinstance(found.metadata, dict) and isinstance(found.body, str)


@FUZZ
@given(entry=FRONT_MATTER, producer=FRONT_MATTER)
def test_api_gouv_fr_harvester_reports_bad_files_and_goes_on(tmp_path, entry, producer):
    folder = tmp_path / "catalogue"
    for sub in ("api", "producteurs", "swaggers"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "api" / "fuzzed.md").write_bytes(entry)
    (folder / "producteurs" / "fuzzed.md").write_bytes(producer)
    (folder / "api" / "good.md").write_bytes(FRONT_MATTER_SEEDS[0])
    items = harvest_all(ApiGouvFrHarvester(folder), "api.gouv.fr")
    assert any(isinstance(i, Candidate) and i.record_id == "good" for i in items)
    for item in items:
        if isinstance(item, Candidate) and item.spec is not None:
            # A spec named by harvested data is read only from inside the catalogue.
            assert item.spec.path.resolve().is_relative_to(folder.resolve()), item.spec


# -- CKAN -------------------------------------------------------------------------------------

CKAN_SEEDS = seeds(SNAPSHOTS / "govdata-de-ckan", "*.json") + seeds(
    SNAPSHOTS / "ckanext-dcat-examples" / "ckan", "*.json")


@FUZZ
@given(document=documents(CKAN_SEEDS))
@pytest.mark.filterwarnings("ignore:Failed to convert Literal:UserWarning")
def test_ckan_reader_yields_records_or_errors_naming_the_source(tmp_path, document):
    folder = tmp_path / "ckan"
    folder.mkdir(exist_ok=True)
    (folder / "fuzzed.json").write_bytes(document)
    harvester = CkanHarvester(slug="fuzz-ckan", name="fuzzed CKAN", path=folder)
    harvest_all(harvester, "fuzzed CKAN")


@FUZZ
@given(package=JSON_VALUES | st.dictionaries(
    st.sampled_from(["name", "id", "title", "notes", "url", "resources", "extras", "tags",
                     "groups", "organization", "license_id", "metadata_modified", "type"]),
    JSON_VALUES, max_size=8))
def test_ckan_package_reader_takes_any_json_value(package):
    harvester = CkanHarvester(slug="fuzz-ckan", name="fuzzed CKAN", url="https://ckan.test/api/3/")
    item = bounded(lambda: harvester.package(package))
    if item is not None:
        assert_records([item], "fuzzed CKAN")


# -- udata ------------------------------------------------------------------------------------

UDATA_SEEDS = seeds(SNAPSHOTS / "datagouv-udata", "*.json")


@FUZZ
@given(document=documents(UDATA_SEEDS))
def test_udata_reader_yields_records_or_errors_naming_the_source(tmp_path, document):
    folder = tmp_path / "udata"
    folder.mkdir(exist_ok=True)
    (folder / "fuzzed.json").write_bytes(document)
    harvester = UdataHarvester(slug="fuzz-udata", name="fuzzed udata", path=folder)
    harvest_all(harvester, "fuzzed udata")


UDATA_KEYS = ["id", "slug", "title", "description", "page", "uri", "license", "resources",
              "organization", "temporal_coverage", "spatial", "contact_points", "tags",
              "frequency", "last_update", "base_api_url", "machine_documentation_url",
              "technical_documentation_url", "access_type", "self_web_url", "rate_limiting",
              "metadata_modified_at", "badges", "name", "acronym", "url", "members", "class"]


@FUZZ
@given(record=st.dictionaries(st.sampled_from(UDATA_KEYS), JSON_VALUES, max_size=10),
       nested=st.dictionaries(st.sampled_from(UDATA_KEYS), JSON_VALUES, max_size=6))
def test_udata_record_readers_take_any_json_values(record, nested):
    """Each reader of a udata object, given fields of any type (also one level down)."""
    harvester = UdataHarvester(slug="fuzz-udata", name="fuzzed udata",
                               url="https://udata.test/api/1/")
    for key in ("organization", "temporal_coverage", "spatial"):
        if key in record:
            record = {**record, key: nested}
    if "resources" in record:
        record = {**record, "resources": [nested, record["resources"]]}
    if "contact_points" in record:
        record = {**record, "contact_points": [nested, record["contact_points"]]}
    found = [bounded(lambda: harvester.dataset(record, None)),
             bounded(lambda: harvester.dataservice(record)),
             bounded(lambda: harvester.organisation(record))]
    assert_records([item for item in found if item is not None], "fuzzed udata")


# -- DCAT-AP ----------------------------------------------------------------------------------

DCAT_FOLDER = SNAPSHOTS / "ckanext-dcat-examples" / "dcat"
DCAT_SEEDS = {suffix: seeds(DCAT_FOLDER, f"*{suffix}", 25_000)
              for suffix in (".ttl", ".rdf", ".jsonld")}
RDF_FORMATS = {".ttl": "turtle", ".rdf": "xml", ".jsonld": "json-ld"}


def _seed_graphs() -> list[Graph]:
    graphs = []
    for path in sorted(DCAT_FOLDER.iterdir()):
        if path.suffix in RDF_FORMATS:
            try:
                graphs.append(parse_graph(path.read_bytes(), RDF_FORMATS[path.suffix]))
            except ValueError:  # one shipped example uses a prefix it never declares
                continue
    return graphs


DCAT_GRAPHS = _seed_graphs()


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("suffix", sorted(DCAT_SEEDS))
@pytest.mark.filterwarnings("ignore:Failed to convert Literal:UserWarning")
def test_dcat_reader_yields_records_or_errors_naming_the_source(tmp_path, suffix, data):
    document = data.draw(st.one_of(documents(DCAT_SEEDS[suffix]),
                                   rdf_mutated(DCAT_GRAPHS, RDF_FORMATS[suffix])),
                         label="document")
    path = tmp_path / f"fuzzed{suffix}"
    path.write_bytes(document)
    harvester = DcatHarvester(slug="fuzz-dcat", name="fuzzed DCAT", path=path)
    harvest_all(harvester, "fuzzed DCAT")


# -- OpenAPI ----------------------------------------------------------------------------------

OPENAPI_SEEDS = seeds(API_GOUV / "swaggers", "*.json", 40_000) + seeds(
    API_GOUV / "swaggers", "*.yaml", 40_000)


@FUZZ
@given(document=documents(OPENAPI_SEEDS))
def test_openapi_capture_raises_only_its_error_naming_the_source(document):
    try:
        captured = bounded(lambda: capture_openapi(document, source="fuzzed-spec.json"))
    except SchemaCaptureError as exc:
        assert str(exc).startswith("fuzzed-spec.json: "), exc
    else:
        assert captured.spec_format in ("openapi", "swagger")
        assert all(isinstance(f.name, str) for f in captured.fields)


# -- nothing is fetched -----------------------------------------------------------------------


@pytest.fixture
def watched_server():
    """A loopback server that answers anything and remembers who asked."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/x").respond_with_data('{"@context": {"name": "http://x/name"}}',
                                                  content_type="application/ld+json")
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_remote_json_ld_context_is_refused_not_fetched(tmp_path, watched_server):
    path = tmp_path / "catalogue.jsonld"
    path.write_text(json.dumps({
        "@context": watched_server.url_for("/x"),
        "@id": "http://example.org/d", "@type": "http://www.w3.org/ns/dcat#Dataset",
        "name": "Remote context"}))
    items = harvest_all(DcatHarvester(slug="s", name="jsonld source", path=path),
                        "jsonld source")
    [error] = items
    assert "would have to be fetched" in error.reason and error.record == "catalogue.jsonld"
    assert watched_server.log == []


def test_an_xml_external_entity_is_not_fetched(tmp_path, watched_server):
    path = tmp_path / "catalogue.rdf"
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY remote SYSTEM "{watched_server.url_for('/x')}">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="http://example.org/d"><dct:title>&remote;</dct:title></dcat:Dataset>
</rdf:RDF>""")
    harvest_all(DcatHarvester(slug="s", name="xml source", path=path), "xml source")
    assert watched_server.log == []


def test_entity_expansion_bombs_are_refused_quickly(tmp_path):
    """A billion laughs in RDF/XML and in front matter (YAML aliases) end as record errors."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    rdf = tmp_path / "bomb.rdf"
    rdf.write_text(f"""<?xml version="1.0"?><!DOCTYPE rdf:RDF [{entities}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="http://example.org/d"><dct:title>&l9;</dct:title></dcat:Dataset>
</rdf:RDF>""")
    [error] = harvest_all(DcatHarvester(slug="s", name="bomb", path=rdf), "bomb")
    assert isinstance(error, RecordError) and error.record == "bomb.rdf"

    anchors = "\n".join(f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]"
                        for i in range(1, 40))
    folder = tmp_path / "catalogue"
    (folder / "api").mkdir(parents=True)
    (folder / "producteurs").mkdir()
    (folder / "api" / "bomb.md").write_text(
        f"---\ntitle: Bomb\nproducer: x\nl0: &l0 [lol]\n{anchors}\nkeywords: *l39\n---\n")
    [error] = harvest_all(ApiGouvFrHarvester(folder), "api.gouv.fr")
    assert isinstance(error, RecordError) and error.record == "api/bomb.md"
    assert "alias" in error.reason


def test_a_remote_ref_is_never_fetched(watched_server):
    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {
        "get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": watched_server.url_for("/x") + "#/Thing"}}}}}}}}}
    captured = capture_openapi(json.dumps(spec).encode(), source="remote-ref.json")
    assert captured.spec_format == "openapi"
    assert watched_server.log == []
