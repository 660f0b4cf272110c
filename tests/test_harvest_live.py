"""Live harvests against loopback portals: paging, failures mid-way, bad records, retirement."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug import Request, Response

from eurodex import pipeline
from eurodex.harvest.ckan import CkanHarvester
from eurodex.harvest.dcat import DcatHarvester
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.register_export import RegisterExportHarvester
from eurodex.harvest.udata import UdataHarvester
from eurodex.store import repository as repo
from eurodex.store.events import EventKind
from eurodex.store.tables import Distribution, Entry, Event, HarvestRun
from eurodex.verify.check import CheckSettings

SNAPSHOTS = Path(__file__).resolve().parents[1] / "src/eurodex/snapshots"
ROWS_MAX = 1000


def fetcher() -> PageFetcher:
    return PageFetcher(CheckSettings(allowed_networks=["127.0.0.0/8"], per_host_per_minute=1e6))


def _package(i: int, title: str | None = "") -> dict:
    real = json.loads((SNAPSHOTS / "govdata-de-ckan/package_show_response.json").read_text())
    package = dict(real["result"])
    package.update(id=f"pkg-{i:05d}", name=f"pkg-{i:05d}",
                   title=f"{package['title']} #{i}" if title == "" else title)
    return package


def _ckan_handler(packages: list[dict], fail_from: int | None = None):
    def handle(request: Request) -> Response:
        action = request.path.rsplit("/", 1)[-1]
        if action == "license_list":
            body = json.loads((SNAPSHOTS / "govdata-de-ckan/license_list_response.json")
                              .read_text())
            return Response(json.dumps(body), content_type="application/json")
        args = parse_qs(urlsplit(request.url).query)
        start = int(args["start"][0])
        rows = min(int(args["rows"][0]), ROWS_MAX)  # CKAN's cap, whatever is asked
        if fail_from is not None and start >= fail_from:
            return Response("internal error", status=500)
        page = packages[start:start + rows]
        return Response(json.dumps({"success": True, "result": {
            "count": len(packages), "results": page}}), content_type="application/json")
    return handle


def _count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_ckan_pages_past_the_1000_row_cap(httpserver, store):
    packages = [_package(i) for i in range(1500)]
    httpserver.expect_request("/api/3/action/license_list").respond_with_handler(
        _ckan_handler(packages))
    httpserver.expect_request("/api/3/action/package_search").respond_with_handler(
        _ckan_handler(packages))
    with fetcher() as pages:
        harvester = CkanHarvester(slug="ckan", name="Loopback CKAN", country="DE",
                                  url=httpserver.url_for("/api/3/action/"), fetcher=pages,
                                  rows=5000)
        report = pipeline.harvest(store, harvester)

    assert report.new == 1500 and report.failed == 0
    assert harvester.pages_read == 2  # 1,000 then 500, though 5,000 rows were asked for
    searches = [r for r, _ in httpserver.log if r.path.endswith("package_search")]
    assert [parse_qs(urlsplit(r.url).query)["start"] for r in searches] == [["0"], ["1000"]]
    assert _count(store, Entry) == 1500
    with store.session() as session:
        entry = session.scalar(select(Entry).where(Entry.record_id == "pkg-01499"))
        # The licence id cc-nc was resolved with the portal's licence list.
        assert entry.licence_id == "cc-by-nc-2.0" and entry.country == "DE"
        assert session.scalar(select(func.count()).select_from(Distribution)) == 4500


def test_a_failing_last_page_deletes_nothing_and_the_run_is_partial(httpserver, store):
    packages = [_package(i) for i in range(24)]  # pages of 10: the third is the last
    handler = _ckan_handler(packages)
    httpserver.expect_request("/api/3/action/license_list").respond_with_handler(handler)
    httpserver.expect_request("/api/3/action/package_search").respond_with_handler(handler)
    url = httpserver.url_for("/api/3/action/")
    with fetcher() as pages:
        first = pipeline.harvest(store, CkanHarvester(slug="c", name="C", url=url, rows=10,
                                                      fetcher=pages, country="DE"))
    assert first.new == 24

    httpserver.clear()
    failing = _ckan_handler(packages, fail_from=20)
    httpserver.expect_request("/api/3/action/license_list").respond_with_handler(failing)
    httpserver.expect_request("/api/3/action/package_search").respond_with_handler(failing)
    for _ in range(4):  # more than the three misses that retire an entry
        with fetcher() as pages:
            report = pipeline.harvest(store, CkanHarvester(slug="c", name="C", url=url,
                                                           rows=10, fetcher=pages,
                                                           country="DE"))
        assert report.aborted and "HTTP 500" in report.aborted
        assert report.unchanged == 20

    assert _count(store, Entry) == 24
    with store.session() as session:
        runs = session.scalars(select(HarvestRun).order_by(HarvestRun.id)).all()
        assert [r.status for r in runs] == ["ok", "partial", "partial", "partial", "partial"]
        assert "HTTP 500" in runs[-1].failures[-1]["reason"]
        statuses = set(session.scalars(select(Entry.status)))
        assert "RETIRED" not in statuses  # partial runs count no misses
        assert session.scalar(select(func.max(Entry.missed_harvests))) == 0


def test_a_record_without_a_title_is_skipped_with_its_reason(httpserver, store):
    packages = [_package(0), _package(1, title=None), _package(2)]
    packages[1]["title"] = None
    packages[1]["name"] = ""
    handler = _ckan_handler(packages)
    httpserver.expect_request("/api/3/action/license_list").respond_with_handler(handler)
    httpserver.expect_request("/api/3/action/package_search").respond_with_handler(handler)
    with fetcher() as pages:
        report = pipeline.harvest(store, CkanHarvester(
            slug="c", name="C", url=httpserver.url_for("/api/3/action/"), fetcher=pages))

    assert (report.new, report.failed) == (2, 1)
    (failure,) = report.failures
    assert (failure.source, failure.record, failure.reason) == ("C", "pkg-00001",
                                                                "dataset has no title")
    with store.session() as session:
        run = session.scalar(select(HarvestRun))
        assert run.status == "partial"
        assert run.failures == [{"record": "pkg-00001", "reason": "dataset has no title"}]


def test_udata_v2_resources_are_followed_as_a_paged_link(httpserver, store):
    dataset = json.loads((SNAPSHOTS / "datagouv-udata/dataset_metadata.json").read_text())
    resources = dataset.pop("resources")
    dataset["resources"] = {"rel": "subsection", "type": "GET", "total": len(resources),
                            "href": httpserver.url_for("/api/2/datasets/x/resources/?page=1")}
    first = [{"resource": r, "dataset_id": dataset["id"]} for r in resources[:5]]
    httpserver.expect_request("/api/2/datasets/x/resources/", query_string="page=1") \
        .respond_with_json({"data": first, "next_page": httpserver.url_for(
            "/api/2/datasets/x/resources/?page=2"), "total": 8})
    httpserver.expect_request("/api/2/datasets/x/resources/", query_string="page=2") \
        .respond_with_json({"data": resources[5:], "next_page": None, "total": 8})
    httpserver.expect_request("/api/2/datasets/search/").respond_with_json(
        {"data": [dataset], "next_page": None, "total": 1})
    service = {"id": "ds-1", "title": "API Adresse", "base_api_url":
               "https://api-adresse.data.gouv.fr", "machine_documentation_url":
               "https://api-adresse.data.gouv.fr/openapi.json", "access_type": "open",
               "organization": dataset["organization"], "tags": ["geographie"]}
    httpserver.expect_request("/api/1/dataservices/").respond_with_json(
        {"data": [service, {"id": "ds-2", "title": "", "base_api_url": "https://x.fr"}],
         "next_page": None, "total": 2})
    with fetcher() as pages:
        harvester = UdataHarvester(
            slug="u", name="udata", url=httpserver.url_for("/api/1/"), fetcher=pages,
            datasets_url=httpserver.url_for("/api/2/datasets/search/"),
            dataservices_url=httpserver.url_for("/api/1/dataservices/"))
        report = pipeline.harvest(store, harvester)

    assert (report.new, report.failed) == (2, 1)
    assert report.failures[0].reason == "dataservice has no title"
    with store.session() as session:
        data = session.scalar(select(Entry).where(Entry.kind == "DATASET"))
        assert _count(store, Distribution) == 8
        api = session.scalar(select(Entry).where(Entry.kind == "API"))
        assert (api.base_url, api.auth_type, api.topics) == (
            "https://api-adresse.data.gouv.fr", "NONE", ["REGI"])
        assert data.institution_id == api.institution_id  # one organisation


HYDRA_PAGE = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <{ns}> .
<{base}/catalog?page={n}> a hydra:{kind} ; hydra:{next} {target} .
<https://data.example.eu/ds/{n}> a dcat:Dataset ; dct:title "Dataset {n}"@en, "Datensatz {n}"@de ;
  dcat:landingPage <https://data.example.eu/ds/{n}/page> ;
  dcat:distribution [ dcat:downloadURL <https://data.example.eu/ds/{n}.csv> ; dct:format "CSV" ] .
"""


@pytest.mark.parametrize("ns, kind, next_name, literal", [
    ("http://www.w3.org/ns/hydra/core#", "PartialCollectionView", "next", False),
    ("http://www.w3.org/ns/hydra/core#", "PagedCollection", "nextPage", True),
])
def test_dcat_hydra_paging_in_both_vocabularies(httpserver, store, ns, kind, next_name,
                                                literal):
    base = httpserver.url_for("").rstrip("/")
    for n in (1, 2, 3):
        following = f"{base}/catalog?page={n + 1}"
        target = (f'"{following}"' if literal else f"<{following}>") if n < 3 else \
            f"<{base}/catalog?page={n}>"  # the last page points at itself: no loop
        body = HYDRA_PAGE.format(ns=ns, base=base, n=n, kind=kind, next=next_name,
                                 target=target)
        httpserver.expect_request("/catalog", query_string=f"page={n}").respond_with_data(
            body, content_type="text/turtle")
    with fetcher() as pages:
        harvester = DcatHarvester(slug="d", name="DCAT", url=f"{base}/catalog?page=1",
                                  fetcher=pages, languages=["de", "en"])
        report = pipeline.harvest(store, harvester)

    assert report.new == 3 and harvester.pages_read == 3
    with store.session() as session:
        assert sorted(session.scalars(select(Entry.name))) == [
            "Datensatz 1", "Datensatz 2", "Datensatz 3"]


def test_harvest_pages_obey_the_address_guard(httpserver, store):
    with PageFetcher(CheckSettings()) as pages:  # no loopback allowed
        report = pipeline.harvest(store, CkanHarvester(
            slug="c", name="C", url=httpserver.url_for("/api/3/action/"), fetcher=pages))
    assert report.aborted and "blocked_address" in report.aborted
    assert httpserver.log == []
    with store.session() as session:
        assert session.scalar(select(HarvestRun.status)) == "failed"


def test_an_entry_missing_from_three_ok_harvests_is_retired_and_redirects(
        tmp_path, store, settings, serve):
    import httpx

    from eurodex.web.app import create_app

    export = tmp_path / "register.json"
    rows = [{"id": "old", "name": "Old API", "type": "API", "country": "FR",
             "base_url": "https://old.example.gouv.fr", "institution": "DINUM"},
            {"id": "new", "name": "New API", "type": "API", "country": "FR",
             "base_url": "https://new.example.gouv.fr", "institution": "DINUM"},
            {"id": "gone", "name": "Gone API", "type": "API", "country": "FR",
             "base_url": "https://gone.example.gouv.fr", "institution": "DINUM"}]

    def harvest(items):
        export.write_text(json.dumps(items))
        return pipeline.harvest(store, RegisterExportHarvester(
            slug="reg", name="Register", path=export, trusted=True))

    harvest(rows)
    for attempt in range(3):
        # "old" is now marked retired with its replacement; "gone" is simply not listed.
        report = harvest([dict(rows[0], state="retired", replaced_by="new"), rows[1]])
        with store.session() as session:
            gone = repo.entry_by_slug(session, "gone")
            assert gone.missed_harvests == attempt + 1
            assert (gone.status == "RETIRED") == (attempt == 2)
    assert report.retired == [gone.id]
    with store.session() as session:
        old = repo.entry_by_slug(session, "old")
        assert old.status == "RETIRED" and "marked retired by Register" in old.status_reason
        assert old.replaced_by_id == repo.entry_by_slug(session, "new").id
        assert "absent from the last 3 successful harvests" in repo.entry_by_slug(
            session, "gone").status_reason
        # Each retirement is announced once, as a `retired` event for the change feeds,
        # although "old" was marked retired by each of the three harvests.
        retired = session.execute(
            select(Entry.slug, Event.detail).join(Event, Event.entry_id == Entry.id)
            .where(Event.kind == EventKind.RETIRED.value).order_by(Entry.slug)).all()
        assert [slug for slug, _ in retired] == ["gone", "old"]
        assert retired[0].detail["reason"].startswith(
            "absent from the last 3 successful harvests of every source that listed it")
        assert retired[1].detail["reason"] == "marked retired by Register"

    with serve(create_app(settings, store)) as served:
        moved = httpx.get(f"{served.url}/entry/old", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"].endswith("/entry/new")
        page = httpx.get(f"{served.url}/entry/gone")
        assert page.status_code == 200 and "Retired." in page.text

    harvest(rows)  # listed again: back through admission
    with store.session() as session:
        assert repo.entry_by_slug(session, "gone").status == "APPROVED"
