"""The five proofs with their evidence, and admission (methodology 2 and 3), end to end.

Pages are served by a real TLS stand-in on a loopback port, reached under the entry's real
host name through a host override; nothing is mocked.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from eurodex import pipeline
from eurodex.harvest.records import FieldValue
from eurodex.model import ProofName
from eurodex.proof.curation import parse_curation
from eurodex.proof.fetched import prove_fetched
from eurodex.store import repository as repo
from eurodex.store.tables import Entry, Source
from eurodex.verify.check import Checker

from .conftest import tls_server
from .officialness_helpers import (
    AGENCY_HOST,
    CURATION_YAML,
    ListHarvester,
    agency_page,
    api_candidate,
    stand_in_settings,
)

HOME = f"https://{AGENCY_HOST}/"
GOOD_PAGE = agency_page(("https://www.example-agency.gouv.fr/", "Example Agency"),
                        ("https://www.example-agency.gouv.fr/confidentialite",
                         "Politique de confidentialité"),
                        ("/docs", "Documentation"))


@pytest.fixture
def agency_site(ca):
    server = tls_server(ca, AGENCY_HOST)
    yield server
    server.clear()
    server.stop()


def curation(extra: str = ""):
    return parse_curation(CURATION_YAML + extra, "curation.yaml")


def harvest_one(store, candidate, cur, **source):
    report = pipeline.harvest(store, ListHarvester(records=[candidate], **source),
                              curation=cur)
    pipeline.score(store, report.entry_ids)
    [entry_id] = report.entry_ids
    return entry_id


def proofs_of(store, entry_id):
    with store.session() as session:
        return {p.name: p for p in repo.proofs_for(session, entry_id)}


def status_of(store, entry_id):
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        score = repo.score_for(session, entry_id)
        return entry.status, entry.status_reason, score.officialness if score else None


def fetch_proofs(store, entry_id, settings, cur, now=None):
    async def run():
        async with Checker(settings) as checker:
            return await prove_fetched(entry_id, store, checker, now or datetime.now(UTC),
                                       curation=cur)
    return asyncio.run(run())


def test_domain_reciprocal_and_policy_score_40_10_5(store, agency_site, ca_file):
    agency_site.expect_request("/").respond_with_data(GOOD_PAGE, content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    assert proofs_of(store, entry_id)[ProofName.DOMAIN].held

    fetch_proofs(store, entry_id, stand_in_settings(agency_site.port, ca_file), cur)

    proofs = proofs_of(store, entry_id)
    assert [p.points for p in proofs.values()] == [40, 0, 0, 10, 5]
    assert proofs[ProofName.DOMAIN].sentence == (
        "host api.example-agency.gouv.fr is under example-agency.gouv.fr, an official domain "
        "of EXA")
    assert proofs[ProofName.RECIPROCAL_LINK].sentence == (
        f"{HOME} links to https://www.example-agency.gouv.fr/, the homepage of EXA")
    assert proofs[ProofName.POLICY_PAGE].sentence == (
        f"{HOME} links to a confidentialite page, "
        "https://www.example-agency.gouv.fr/confidentialite; its host is under "
        "example-agency.gouv.fr, an official domain of EXA")
    assert proofs[ProofName.POLICY_PAGE].url == HOME
    assert status_of(store, entry_id) == (
        "QUARANTINED", "officialness 55 is 40-79: waiting for review", 55)
    assert [r.path for r, _ in agency_site.log] == ["/"]  # one page read, once


def test_a_second_portal_gains_25_and_a_listed_github_org_20(store, agency_site, ca_file):
    agency_site.expect_request("/").respond_with_data(GOOD_PAGE, content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    fetch_proofs(store, entry_id, stand_in_settings(agency_site.port, ca_file), cur)

    # A second official portal (its site is on a public-sector domain) lists the same URL.
    again = harvest_one(store, api_candidate("exa-elsewhere", HOME, homepage=HOME), cur,
                        source_slug="data-gouv-fr", source_name="data.gouv.fr",
                        source_url="https://www.data.gouv.fr")
    assert again == entry_id  # the same resource, merged
    proofs = proofs_of(store, entry_id)
    assert proofs[ProofName.PORTAL_BACKLINK].held
    assert proofs[ProofName.PORTAL_BACKLINK].sentence == "also listed by data.gouv.fr"
    assert status_of(store, entry_id) == (
        "APPROVED", "officialness 80 >= 80 with a known institution", 80)

    # The DGFiP's GitHub organisation comes from the public-sector lists, in any case.
    spec = "https://github.com/DGFiP/impots-api/blob/main/openapi.yaml"
    dgfip = harvest_one(store, api_candidate("dgfip-api", "https://api.impots.gouv.fr",
                                             institution="dgfip", spec_url=spec), cur)
    proofs = proofs_of(store, dgfip)
    assert proofs[ProofName.GITHUB_ORG].held and proofs[ProofName.GITHUB_ORG].points == 20
    assert proofs[ProofName.GITHUB_ORG].sentence == (
        f"{spec} lies under dgfip, a GitHub organisation of DGFiP")
    assert status_of(store, dgfip)[2] == 40 + 20


def test_a_submission_source_never_counts_as_a_second_portal(store):
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        submitted = repo.ensure_source(session, slug="submissions", name="public submissions",
                                       format="submission", url=None, trusted=False)
        unofficial = repo.ensure_source(session, slug="blog", name="a blog",
                                        format="test", url="https://someone.github.io",
                                        trusted=False)
        for source in (submitted, unofficial):
            repo.record_entry_field(session, entry, "base_url", FieldValue(HOME), source)
        pipeline.prove_and_admit(session, entry, pipeline.decide.registry_for(cur), cur)
    assert not proofs_of(store, entry_id)[ProofName.PORTAL_BACKLINK].held


@pytest.mark.parametrize("host", ["evilgouv.fr", "gouv.fr.attacker.example",
                                  "someone.github.io"])
def test_lookalike_hosts_get_no_domain_credit(store, host):
    entry_id = harvest_one(store, api_candidate("x", f"https://{host}/api"), curation())
    proof = proofs_of(store, entry_id)[ProofName.DOMAIN]
    assert not proof.held and proof.points == 0
    assert proof.sentence == f"host {host} is not under any known official domain"
    assert status_of(store, entry_id)[:2] == ("REJECTED", "officialness 0 is below 40")


def test_a_proof_that_stops_holding_is_recorded_and_the_entry_readmitted(
        store, agency_site, ca_file):
    agency_site.expect_request("/").respond_with_data(GOOD_PAGE, content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        other = repo.ensure_source(session, slug="data-gouv-fr", name="data.gouv.fr",
                                   format="udata", url="https://www.data.gouv.fr",
                                   trusted=False)
        repo.record_entry_field(session, entry, "base_url", FieldValue(HOME), other)
    settings = stand_in_settings(agency_site.port, ca_file)
    first = datetime.now(UTC) - timedelta(hours=6)
    fetch_proofs(store, entry_id, settings, cur, now=first)
    assert status_of(store, entry_id)[0] == "APPROVED"

    # Six hours later the page no longer links back, nor to a policy page.
    agency_site.clear()
    agency_site.expect_request("/").respond_with_data(
        agency_page(("https://elsewhere.example.com/privacy", "Privacy")),
        content_type="text/html")
    later = datetime.now(UTC)
    fetch_proofs(store, entry_id, settings, cur, now=later)
    proofs = proofs_of(store, entry_id)
    reciprocal, policy = proofs[ProofName.RECIPROCAL_LINK], proofs[ProofName.POLICY_PAGE]
    assert not reciprocal.held and reciprocal.checked_at == later
    assert reciprocal.sentence == f"{HOME} links to no page of EXA's official site"
    assert not policy.held and policy.checked_at == later
    assert policy.sentence == (f"{HOME} links to 1 policy or contact pages, none under an "
                               "official domain (first: https://elsewhere.example.com/privacy)")
    assert status_of(store, entry_id) == (
        "QUARANTINED", "officialness 65 is 40-79: waiting for review", 65)

    # A page that now answers 404 is recorded as not read, with the reason.
    agency_site.clear()
    agency_site.expect_request("/").respond_with_data("gone", status=404)
    fetch_proofs(store, entry_id, settings, cur)
    assert proofs_of(store, entry_id)[ProofName.POLICY_PAGE].sentence == (
        f"{HOME} could not be read (http_404)")


def test_a_curator_decision_stands_when_proofs_change(store, agency_site, ca_file):
    agency_site.expect_request("/").respond_with_data(agency_page(), content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        entry.status, entry.status_reason = "APPROVED", "curator alice: known agency API"
    fetch_proofs(store, entry_id, stand_in_settings(agency_site.port, ca_file), cur)
    assert status_of(store, entry_id)[:2] == ("APPROVED", "curator alice: known agency API")


def test_an_inconclusive_page_leaves_the_proofs_as_they_were(store, agency_site, ca_file):
    agency_site.expect_request("/").respond_with_data(GOOD_PAGE, content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    settings = stand_in_settings(agency_site.port, ca_file)
    fetch_proofs(store, entry_id, settings, cur)
    agency_site.clear()
    agency_site.expect_request("/").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "1"}))
    fetch_proofs(store, entry_id, settings, cur)
    proofs = proofs_of(store, entry_id)
    assert proofs[ProofName.RECIPROCAL_LINK].held and proofs[ProofName.POLICY_PAGE].held


def test_admission_paths_store_their_reason(store):
    blocked = curation("blocklist: [spam-api.example-agency.gouv.fr]\n")
    cases = [
        # >= 80 needs fetched proofs, covered above; here the other four paths.
        (api_candidate("q", "https://api.example-agency.gouv.fr"), curation(), {},
         ("QUARANTINED", "officialness 40 is 40-79: waiting for review")),
        (api_candidate("r", "https://api.unknown-company.example"), curation(), {},
         ("REJECTED", "officialness 0 is below 40")),
        (api_candidate("b", "https://spam-api.example-agency.gouv.fr/v1"), blocked, {},
         ("REJECTED", "primary host spam-api.example-agency.gouv.fr is on the blocklist")),
        (api_candidate("t", "https://api.other-company.example"),
         curation("trusted_sources: [curated-portal]\n"),
         {"source_slug": "curated-portal", "source_name": "curated portal"},
         ("APPROVED", "listed by trusted catalogue curated portal")),
    ]
    for candidate, cur, source, expected in cases:
        entry_id = harvest_one(store, candidate, cur, **source)
        assert status_of(store, entry_id)[:2] == expected, candidate.record_id


def test_the_blocklist_overrides_a_curator_and_a_trusted_source(store):
    cur = curation("trusted_sources: [test-portal]\nblocklist: [example-agency.gouv.fr]\n")
    entry_id = harvest_one(store, api_candidate("exa", HOME), curation())
    with store.session() as session:
        entry = session.get(Entry, entry_id)
        entry.status, entry.status_reason = "APPROVED", "curator alice: fine"
        pipeline.prove_and_admit(session, entry, pipeline.decide.registry_for(cur), cur)
    assert status_of(store, entry_id)[:2] == (
        "REJECTED", f"primary host {AGENCY_HOST} is on the blocklist")


def test_operator_institutions_and_sources_are_recorded_with_provenance(store):
    cur = curation()
    harvest_one(store, api_candidate("exa", HOME), cur)
    with store.session() as session:
        inst = repo.institution_by_slug(session, "example-agency")
        assert inst.official_domains == ["example-agency.gouv.fr"]
        assert inst.homepage_url == "https://www.example-agency.gouv.fr"
        fields = {(p.field, p.method) for p in repo.provenance_for(session, "institution",
                                                                   inst.id)}
        assert ("official_domains", "curated") in fields
        dgfip = repo.institution_by_slug(session, "dgfip")
        assert dgfip.github_orgs == ["dgfip"]
        assert session.query(Source).filter_by(slug="eurodex-reference").one()


def test_full_verification_proves_the_page_proofs_again(store, agency_site, ca_file):
    from eurodex.proof.fetched import reprove_pages
    from eurodex.verify.full import FULL_VERIFICATION_STEPS, full_verify

    assert reprove_pages in FULL_VERIFICATION_STEPS
    agency_site.expect_request("/").respond_with_data(GOOD_PAGE, content_type="text/html")
    cur = curation()
    entry_id = harvest_one(store, api_candidate("exa", HOME, homepage=HOME), cur)
    assert not proofs_of(store, entry_id)[ProofName.RECIPROCAL_LINK].held

    async def run():
        async with Checker(stand_in_settings(agency_site.port, ca_file)) as checker:
            return await full_verify(store, entry_id, checker)

    report = asyncio.run(run())
    assert report.step_errors == []
    proofs = proofs_of(store, entry_id)
    assert proofs[ProofName.RECIPROCAL_LINK].held and proofs[ProofName.POLICY_PAGE].held
    assert status_of(store, entry_id)[2] == 55


@pytest.mark.parametrize("href, text, word", [
    ("/mentions-legales", "Mentions légales", "mentions legales"),
    ("/x", "Données personnelles", "donnees personnelles"),
    ("/impressum", "Impressum", "impressum"),
    ("/datenschutz", "", "datenschutz"),
    ("/privacyverklaring", "Privacy", "privacy"),
    ("/aviso-legal", "Aviso legal", "aviso legal"),
    ("/note-legali", "Note legali", "note legali"),
    ("/contact", "Contact", "contact"),
    ("/terms-of-use", "Terms", "terms"),
    ("/blog/contactless-payments", "Contactless payments", None),
    ("/news", "News", None),
])
def test_policy_links_are_recognised_in_six_languages(href, text, word):
    from eurodex.proof.links import page_links, policy_word

    [link] = page_links(f'<a href="{href}">{text}</a>', "https://x.gouv.fr/")
    assert policy_word(link) == word


def test_page_links_are_absolute_http_links_only():
    from eurodex.proof.links import page_links

    html = ('<base href="https://other.gouv.fr/sub/"><a href="a">A</a><a href="#top">top</a>'
            '<a href="mailto:x@y.fr">mail</a><a href="javascript:alert(1)">js</a>'
            '<a href="//cdn.gouv.fr/z">Z <b>bold</b></a>')
    links = page_links(html, "https://x.gouv.fr/")
    assert [(link.url, link.text) for link in links] == [
        ("https://other.gouv.fr/sub/a", "A"), ("https://cdn.gouv.fr/z", "Z bold")]
