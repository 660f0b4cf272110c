"""The operator's curation file and the shipped reference lists behind the proofs."""

from __future__ import annotations

import pytest

from eurodex import pipeline
from eurodex.harvest.records import FieldValue, InstitutionRecord
from eurodex.proof.curation import CurationError, curation_at, load_curation, parse_curation
from eurodex.proof.domains import DomainRegistry
from eurodex.proof.institutions import link_institutions
from eurodex.proof.prove import github_org_of
from eurodex.proof.reference import (
    known_portals,
    nl_domains,
    public_sector_github_orgs,
    shipped_registry,
    uk_domains,
)
from eurodex.store import repository as repo

from .officialness_helpers import CURATION_YAML, ListHarvester, api_candidate


def test_a_curation_file_is_read_whole(tmp_path):
    path = tmp_path / "curation.yaml"
    path.write_text(CURATION_YAML + "official_domains: [example-city.fr]\n"
                    "trusted_sources: [api-gouv-fr]\nblocklist: [https://Spam.Example/x]\n",
                    "utf-8")
    cur = load_curation(path)
    assert [i.slug for i in cur.institutions] == ["example-agency", "dgfip"]
    assert cur.institutions[0].domains == ("example-agency.gouv.fr",)
    assert cur.official_domains == ("example-city.fr",)
    assert cur.is_trusted("api-gouv-fr") and not cur.is_trusted("other")
    assert cur.blocked("api.spam.example") == "spam.example"
    assert cur.blocked("notspam.example") is None
    assert curation_at(str(path)) == cur
    assert curation_at(None).institutions == ()


@pytest.mark.parametrize("text, line, words", [
    ("institutions:\n  - slug: a\n\tname: A\n", 3, "not valid YAML"),
    ("institutions:\n  - slug: a\n    name: A\n    country: FR\n", 2, "has no 'type'"),
    ("institutions:\n  - slug: a\n    name: A\n    country: FR\n    type: CITY\n", 5,
     "type 'CITY' is not one of"),
    ("institutions:\n  - slug: a\n    name: A\n    country: France\n    type: AGENCY\n", 4,
     "not an ISO 3166-1"),
    ("official_domains:\n  - example.fr\n  - co.uk\n", 3, "'co.uk' is a public suffix"),
    ("official_domains:\n  - not a domain\n", 2, "is not a domain name"),
    ("trusted_sources: [submissions]\n", 1, "can never be a trusted source"),
    ("blocklist:\n  good.example: yes\n", 2, "blocklist must be a list"),
    ("colours: [red]\n", 1, "unknown key 'colours'"),
])
def test_a_malformed_curation_file_names_the_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "curation.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(CurationError) as caught:
        load_curation(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    assert words in str(caught.value)


def test_a_missing_curation_file_is_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "nope.yaml"
    monkeypatch.setenv("EURODEX_CURATION_FILE", str(missing))
    with pytest.raises(CurationError, match=f"^{missing}: cannot be read"):
        pipeline.current_curation()


def test_uk_wildcards_are_honoured_strictly_below_their_base():
    exact, wildcards = uk_domains()
    assert "nhs.uk" in wildcards and "gov.uk" in wildcards and "aberdeencity.gov.uk" in exact
    registry = shipped_registry()
    found = registry.match("digital.nhs.uk")
    assert found.domain == "nhs.uk" and "as *.nhs.uk" in found.sentence()
    assert registry.match("nhs.uk") is None  # "*.nhs.uk" names what is below nhs.uk
    # Governments' private-section suffixes are not shared hosting.
    assert registry.match("www.gov.scot").domain == "gov.scot"
    assert registry.match("my-service.service.gov.uk").domain == "gov.uk"


@pytest.mark.parametrize("host", ["evilgouv.fr", "gouv.fr.attacker.example",
                                  "someone.github.io", "x.co.uk", "gov.uk.example.com",
                                  "sopora.nl", "com", "wordpress.com", "evil.wordpress.com",
                                  "anyone.pagesperso-orange.fr", "page.facebook.com"])
def test_no_list_vouches_for_lookalikes_generic_suffixes_or_shared_hosting(host):
    assert shipped_registry().match(host) is None


def test_a_listed_blog_on_a_platform_counts_only_for_itself():
    registry = shipped_registry()
    assert registry.match("willerval.wordpress.com").domain == "willerval.wordpress.com"
    assert registry.match("x.willerval.wordpress.com") is None


def test_the_dutch_and_eu_lists_are_loaded():
    assert "knmi.nl" in nl_domains()
    assert not any("=" in d for d in nl_domains())  # the malformed row is skipped
    registry = shipped_registry()
    assert registry.match("api.knmi.nl").domain == "knmi.nl"
    assert registry.match("www.ema.europa.eu").domain == "ema.europa.eu"
    assert registry.match("www.eib.org").domain == "eib.org"


def test_github_logins_are_compared_without_case():
    orgs = public_sector_github_orgs()
    assert orgs["inseefr"].country == "FR"  # listed as "InseeFr"
    assert orgs["european-central-bank"].country == "EU"
    assert "codeforamerica" not in orgs  # civic-tech groups are not public bodies
    assert github_org_of("https://raw.githubusercontent.com/InseeFr/x/main/o.yaml") == "inseefr"


def test_known_portals_come_from_the_registry_of_data_portals():
    portals = known_portals()
    assert "data.gouv.fr" in portals and "data.europa.eu" in portals


def test_institutions_are_linked_to_list_domains_and_organisations(store):
    harvester = ListHarvester(records=[api_candidate("x", "https://api.example.org")])
    def body(key, name, acronym, country, homepage=None):
        fields = {"name": FieldValue(name), "acronym": FieldValue(acronym),
                  "country": FieldValue(country), "type": FieldValue("AGENCY")}
        if homepage:
            fields["homepage_url"] = FieldValue(homepage)
        return InstitutionRecord(key=key, record_url=None, fields=fields)

    harvester.bodies = [
        body("insee", "Institut national de la statistique", "Insee", "FR",
             "https://www.insee.fr"),
        body("ema", "European Medicines Agency", "EMA", "EU"),
        # Two bodies answering to "ARS": neither gets the organisation.
        body("ars-a", "Agence régionale de santé A", "ARS", "FR"),
        body("ars-b", "Agence régionale de santé B", "ARS", "FR"),
        body("company", "A company", "ACME", "FR", "https://someone.github.io"),
    ]
    pipeline.harvest(store, harvester, curation=parse_curation("", "empty.yaml"))
    with store.session() as session:
        insee = repo.institution_by_slug(session, "insee")
        assert insee.github_orgs == ["inseefr"]
        assert insee.official_domains == ["insee.fr"]  # its homepage, on the French list
        ema = repo.institution_by_slug(session, "ema")
        assert ema.official_domains == ["ema.europa.eu"]
        assert ema.homepage_url == "https://www.ema.europa.eu"  # from eurodex's EU list
        assert repo.institution_by_slug(session, "ars-a").github_orgs == []
        assert repo.institution_by_slug(session, "company").official_domains == []
        # Linking again changes nothing.
        assert link_institutions(session, DomainRegistry.shipped()) == set()


def test_the_harvest_command_refuses_a_malformed_curation_file(tmp_path):
    from typer.testing import CliRunner

    from eurodex import cli

    bad = tmp_path / "curation.yaml"
    bad.write_text("blocklist:\n  - not a host\n", "utf-8")
    result = CliRunner().invoke(cli.app, ["harvest"], env={
        "EURODEX_DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}",
        "EURODEX_CURATION_FILE": str(bad), "COLUMNS": "300"})
    assert result.exit_code == 2
    assert f"{bad}, line 2: blocklist entry 'not a host' is not a host or domain name" in (
        " ".join(result.output.split()))
