"""Harvesting Europe from the shipped snapshots: counts, datasets, merge, languages, JSON-LD."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eurodex import pipeline
from eurodex.harvest.ckan import CkanHarvester
from eurodex.harvest.dcat import DcatHarvester
from eurodex.harvest.rdf import Languages, RemoteContextRefused, parse_graph
from eurodex.harvest.records import RecordError
from eurodex.harvest.register_export import RegisterExportHarvester
from eurodex.harvest.sources import build_harvester, load_sources
from eurodex.harvest.urlkey import url_key
from eurodex.store import repository as repo
from eurodex.store.tables import Distribution, Entry, HarvestRun, Institution, Listing, Provenance


def _sources() -> dict:
    return {c.slug: c for c in load_sources()}


def _count(store, model, *where) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# -- every shipped snapshot harvests, with its counts ------------------------------------

SNAPSHOT_COUNTS = {
    # slug: (new, updated, failed, run status)
    "data-gouv-fr": (1, 0, 0, "ok"),
    "govdata-de": (4, 0, 0, "ok"),
    "nl-api-register": (226, 0, 0, "ok"),
    "nl-developer-overheid-legacy": (5, 0, 0, "ok"),
    # dataset.ttl does not parse; catalog.rdf and catalog_datasets_list.rdf repeat two
    # datasets word for word (unchanged the second time), and two health examples share a
    # URI but not their content (one update).
    "ckanext-dcat-examples": (13, 1, 1, "partial"),
    "ckanext-dcat-examples-ckan": (6, 3, 0, "ok"),  # four files share one package id
    "nl-openapi-list": (205, 0, 0, "ok"),
    "dataportals-national-export": (557, 0, 0, "ok"),
}


@pytest.mark.parametrize("slug", sorted(SNAPSHOT_COUNTS))
def test_every_shipped_snapshot_harvests_with_its_counts(store, slug):
    report = pipeline.harvest(store, build_harvester(_sources()[slug]))

    new, updated, failed, status = SNAPSHOT_COUNTS[slug]
    assert (report.new, report.updated, report.failed) == (new, updated, failed)
    with store.session() as session:
        run = session.scalar(select(HarvestRun))
        assert run.status == status and run.new == new and run.failed == failed
        assert len(run.failures) == failed


def test_the_portal_registry_gives_one_api_per_portal_from_46_countries(store):
    harvester = build_harvester(_sources()["dataportals-registry"])
    report = pipeline.harvest(store, harvester)

    assert report.new + report.updated == 1825 and report.failed == 0
    # 22 owners are unnamed or named by a placeholder ("Not specified in URL", "95"); 3
    # catalogues are "named" by a note ("I could not access the provided URL directly...").
    assert harvester.skipped == {"no API endpoint": 665, "catalogue not active": 30,
                                 "owner without a name or country": 22,
                                 "name is a note about missing information": 3}
    with store.session() as session:
        countries = session.scalar(select(func.count(func.distinct(Entry.country))))
        assert countries == 46
        names = list(session.scalars(select(Institution.name)))
        assert not [n for n in names if n.lower().startswith(("not ", "no ")) or n.isdigit()]
        portal = session.scalar(select(Entry).where(Entry.record_id == "cdi00000686"))
        assert portal.name == "Open platform for French public data" and portal.kind == "API"
        assert portal.base_url == "https://data.gouv.fr/api/1"  # its udata API endpoint
        assert portal.homepage_url == "https://data.gouv.fr"
        assert (portal.institution.name, portal.institution.country) == ("Etalab", "FR")
        # Trusted (sources.yaml): a registry of catalogues owned by public bodies, each record
        # naming its owner, stands in for review; the officialness axis still shows only what
        # is proven (data.gouv.fr is under gouv.fr: the domain proof, 40).
        assert portal.status == "APPROVED"
        assert portal.status_reason.startswith("listed by trusted catalogue")
        held = [p.name.value for p in repo.proofs_for(session, portal.id) if p.held]
        assert held == ["domain"]


def test_the_undecodable_turtle_file_is_reported_and_the_others_are_read(store):
    report = pipeline.harvest(store, build_harvester(_sources()["ckanext-dcat-examples"]))

    assert [f.record for f in report.failures] == ["dataset.ttl"]
    assert "healthdcatap" in report.failures[0].reason
    assert _count(store, Entry) == 13


def test_a_dataset_is_stored_in_full(store):
    pipeline.harvest(store, build_harvester(_sources()["data-gouv-fr"]))
    pipeline.score(store)
    with store.session() as session:
        entry = session.scalar(select(Entry).where(Entry.kind == "DATASET"))
        assert entry.name == "Catalogue des données de data.gouv.fr"
        assert (entry.licence, entry.licence_id, entry.licence_category) == (
            "lov2", "etalab-2.0", "attribution")
        assert entry.frequency == "weekly" and entry.country == "FR"
        assert entry.landing_page.startswith("https://www.data.gouv.fr/fr/datasets/")
        assert entry.institution.name == "data.gouv.fr"
        rows = session.scalars(select(Distribution).where(Distribution.entry_id == entry.id)
                               .order_by(Distribution.position)).all()
        assert len(rows) == 8
        assert (rows[0].format, rows[0].media_type, rows[0].byte_size) == (
            "csv", "text/csv", 176653507)
        score = repo.score_for(session, entry.id)
        # Dataset facts reach the axes: distributions, a machine-readable format, licence.
        assert "At least one distribution" in score.sentences["agent_readiness"]
        assert "Machine-readable distribution format" in score.sentences["agent_readiness"]
        assert "Licence normalised" in score.sentences["agent_readiness"]
        assert score.licence_clarity == 100
        assert "temporal coverage" in score.sentences["metadata_completeness"]  # missing


def test_ckan_licences_are_resolved_with_the_portal_licence_list(tmp_path):
    licences = json.loads((Path(_sources()["govdata-de"].snapshot_path())
                           / "license_list_response.json").read_text())["result"]
    harvester = CkanHarvester(slug="g", name="GovData", path=tmp_path, country="DE")
    harvester.remember_licences(licences)
    # An older DCAT-AP.de URI spelled with 2_0 is in GovData's list, so it resolves.
    assert harvester.resolve_licence("http://dcat-ap.de/def/licenses/dl-by-de/2_0") == (
        "http://dcat-ap.de/def/licenses/dl-by-de/2_0")
    from eurodex.score.licences import normalise_licence
    assert normalise_licence("http://dcat-ap.de/def/licenses/dl-by-de/2_0").id == "dl-de-by-2.0"
    # A licence only known by its title in the list falls back to the title's spelling.
    harvester.remember_licences([{"id": "x-geo", "title": "odc-odbl", "url": ""}])
    assert harvester.resolve_licence("x-geo") == "odc-odbl"
    assert harvester.resolve_licence("unheard-of") == "unheard-of"


def test_german_groups_and_data_theme_uris_map_to_eu_topics(store):
    pipeline.harvest(store, build_harvester(_sources()["govdata-de"]))
    with store.session() as session:
        rostock = session.scalar(select(Entry).where(Entry.name == "Karte nach Schmettau 1788"))
        # dcat:theme data-theme URIs, taken in the order of their URIs (an RDF graph has
        # no order of its own)
        assert rostock.topics == ["GOVE", "REGI"]
        assert rostock.licence_id == "cc0-1.0"
        chrom = session.scalar(select(Entry).where(Entry.record_id ==
                                                   "352a646f-e170-49c7-9d1e-53bdef9392fc"))
        assert chrom.topics == ["EDUC", "TECH", "REGI"]  # GovData groups bildung_wissenschaft, geo
        assert chrom.licence_category == "not-open" and chrom.temporal_start == "2000-01-01"


# -- languages ---------------------------------------------------------------------------

MULTILINGUAL = Path(__file__).resolve().parents[1] / (
    "src/eurodex/snapshots/ckanext-dcat-examples/dcat/dataset_multilingual.ttl")


@pytest.mark.parametrize("preference, title", [
    (["es", "en"], "Conjunto de datos de prueba DCAT"),
    (["ca"], "Conjunt de dades de prova DCAT"),
    (["en"], "Test DCAT dataset"),
    (["fr", "de"], "Conjunt de dades de prova DCAT"),  # none preferred: first by language tag
])
def test_a_multilingual_title_picks_the_configured_language(tmp_path, preference, title):
    harvester = DcatHarvester(slug="m", name="m", path=MULTILINGUAL, languages=preference)
    (candidate,) = list(harvester.candidates())
    assert candidate.value("name") == title


def test_language_picking_prefers_untagged_over_unlisted_languages():
    from rdflib import Literal
    values = [Literal("zz", lang="fi"), Literal("plain"), Literal("sv", lang="sv")]
    assert Languages(["de"]).pick(values) == "plain"
    assert Languages(["sv-FI"]).pick(values) == "plain"
    assert Languages(["sv"]).pick(values) == "sv"


# -- JSON-LD contexts are never fetched --------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Recorder.requests.append(self.path)
        body = json.dumps({"@context": {"title": "http://purl.org/dc/terms/title"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def context_server():
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_remote_json_ld_context_is_never_fetched(tmp_path, context_server):
    document = {"@context": f"{context_server}/context.jsonld",
                "@id": "https://example.eu/ds/1", "@type": "http://www.w3.org/ns/dcat#Dataset",
                "title": "Fetched title"}
    with pytest.raises(RemoteContextRefused, match="never fetches"):
        parse_graph(json.dumps(document), "json-ld")
    nested = {"@context": [{"dct": "http://purl.org/dc/terms/"},
                           {"@import": f"{context_server}/more.jsonld"}], "@id": "x"}
    with pytest.raises(RemoteContextRefused):
        parse_graph(json.dumps(nested), "json-ld")

    (tmp_path / "remote.jsonld").write_text(json.dumps(document))
    items = list(DcatHarvester(slug="j", name="j", path=tmp_path).candidates())
    assert len(items) == 1 and isinstance(items[0], RecordError)
    assert "never fetches" in items[0].reason
    assert _Recorder.requests == []  # the server saw nothing


def test_the_dcat_ap_context_url_is_read_from_the_shipped_copy(context_server):
    document = {
        "@context": "https://semiceu.github.io/DCAT-AP/releases/3.0.1/context/dcat-ap.jsonld",
        "@id": "https://example.eu/ds/1", "@type": "Dataset", "title": ["Local context"]}
    graph = parse_graph(json.dumps(document), "json-ld")
    from rdflib import URIRef
    from rdflib.namespace import DCTERMS
    assert str(graph.value(URIRef("https://example.eu/ds/1"), DCTERMS.title)) == "Local context"
    assert _Recorder.requests == []


# -- merging sources ---------------------------------------------------------------------

def _export(tmp_path: Path, rows: list[dict], name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return path


def test_the_same_api_from_two_sources_is_one_entry_with_the_portal_backlink(tmp_path, store):
    pipeline.harvest(store, build_harvester(_sources()["nl-developer-overheid-legacy"]))
    export = _export(tmp_path, [{
        "id": "bag-1", "name": "BAG API (other register)", "type": "API", "country": "NL",
        "base_url": "HTTPS://bag.basisregistraties.overheid.nl:443/api/v1?utm_source=x",
        "tags": "adressen;gebouwen", "institution": "Kadaster"}])
    other = RegisterExportHarvester(slug="other", name="Other register", path=export,
                                    trusted=True)
    report = pipeline.harvest(store, other)

    assert (report.new, report.updated) == (0, 1)
    assert _count(store, Entry) == 5
    with store.session() as session:
        entry = repo.entry_by_slug(session, "kadaster-bag")
        names = session.execute(
            select(Provenance.source_id).where(Provenance.subject == "entry",
                                               Provenance.subject_id == entry.id,
                                               Provenance.field == "base_url")).all()
        assert len(names) == 2  # both sources' base URLs are kept
        assert _count(store, Listing, Listing.entry_id == entry.id) == 2
        # Both trusted: the first source's name is shown, the other is kept.
        assert entry.name == "Basisregistratie Adressen en Gebouwen (BAG)"
        backlink = {p.name.value: p for p in repo.proofs_for(session, entry.id)}
        assert backlink["portal_backlink"].held
        assert "Other register" in backlink["portal_backlink"].sentence


def test_a_trusted_second_source_wins_a_disagreement_over_an_untrusted_first(tmp_path, store):
    first = RegisterExportHarvester(slug="first", name="First (untrusted)", trusted=False,
                                    path=_export(tmp_path, [{
                                        "id": "a", "name": "Name from first", "type": "API",
                                        "base_url": "https://api.example.gouv.fr/v1/"}], "a.json"))
    second = RegisterExportHarvester(slug="second", name="Second (trusted)", trusted=True,
                                     path=_export(tmp_path, [{
                                         "id": "b", "name": "Name from second", "type": "API",
                                         "base_url": "https://api.example.gouv.fr/v1"}], "b.json"))
    pipeline.harvest(store, first)
    pipeline.harvest(store, second)
    with store.session() as session:
        (entry,) = session.scalars(select(Entry)).all()
        assert entry.name == "Name from second"
        from eurodex.web.dataset_view import sources_view
        view = sources_view(session, entry)
        (disagreement,) = [d for d in view.disagreements if d.field == "name"]
        assert disagreement.shown_source == "Second (trusted)"
        assert disagreement.values[0] == ("Second (trusted)", "Name from second")
        assert ("First (untrusted)", "Name from first") in disagreement.values


def test_records_of_one_source_sharing_a_url_stay_separate(tmp_path, store):
    rows = [{"id": i, "name": f"API {i}", "type": "API", "base_url": "https://x.gouv.fr/api"}
            for i in ("one", "two")]
    pipeline.harvest(store, RegisterExportHarvester(slug="s", name="S", path=_export(
        tmp_path, rows)))
    assert _count(store, Entry) == 2


def test_url_key_ignores_scheme_case_port_slash_and_tracking():
    assert url_key("https://API.Example.fr:443/v1/?utm_medium=x&b=2") == "api.example.fr/v1?b=2"
    assert url_key("http://api.example.fr/v1") == "api.example.fr/v1"
    assert url_key("http://api.example.fr:8080/v1") == "api.example.fr:8080/v1"
    assert url_key("ftp://api.example.fr/v1") is None and url_key("not a url") is None


def test_over_long_values_are_cut_or_reported_the_same_way_on_both_databases(tmp_path, store):
    """PostgreSQL refuses a value longer than its column (SQLite does not): a long name is
    cut with an ellipsis and still lands; a long URL makes its record an error, reported
    with its source, while the rest of the harvest goes on."""
    long_name = "Portail " + "des données ouvertes " * 40
    rows = [{"id": "long-name", "name": long_name, "type": "API",
             "base_url": "https://data.example.gouv.fr/api"},
            {"id": "long-url", "name": "Long URL", "type": "API",
             "base_url": "https://data.example.gouv.fr/" + "x" * 2100},
            {"id": "fine", "name": "Fine", "type": "API",
             "base_url": "https://other.example.gouv.fr/api"}]
    report = pipeline.harvest(store, RegisterExportHarvester(
        slug="long", name="Long values", path=_export(tmp_path, rows)))

    assert (report.new, report.failed) == (2, 1)
    (failure,) = report.failures
    assert failure.source == "Long values" and failure.record == "long-url"
    assert "base_url is 2129 characters long" in failure.reason
    with store.session() as session:
        names = sorted(session.scalars(select(Entry.name)))
    assert names[0] == "Fine"
    assert len(names[1]) <= 500 and names[1].endswith("…")
    assert long_name.startswith(names[1][:-1])


def test_a_proof_without_an_institution_is_scored_as_admission_judged_it(tmp_path, store):
    """No institution is named, but the host is on a public-sector domain list: admission
    sums the proofs (40, waiting for review), and the officialness axis shows the same 40,
    not the neutral 50 of an entry nothing links to the public sector."""
    rows = [{"id": "x", "name": "Abandoned vehicles", "type": "API",
             "base_url": "https://api.example.gouv.fr/vehicles"},
            {"id": "y", "name": "Private API", "type": "API",
             "base_url": "https://api.example.com/things"}]
    pipeline.harvest(store, RegisterExportHarvester(slug="s", name="S", path=_export(
        tmp_path, rows)))
    pipeline.score(store)
    with store.session() as session:
        public = session.scalar(select(Entry).where(Entry.record_id == "x"))
        private = session.scalar(select(Entry).where(Entry.record_id == "y"))
        assert public.institution is None
        assert public.status_reason == "officialness 40 is 40-79: waiting for review"
        assert repo.score_for(session, public.id).officialness == 40
        assert repo.score_for(session, private.id).officialness == 50
