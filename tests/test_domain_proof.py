"""Official-domain matching on dot boundaries, and the offline proofs and admission."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eurodex.model import Kind, Status
from eurodex.proof.admission import admit
from eurodex.proof.domains import DomainRegistry, is_shared_hosting
from eurodex.proof.prove import ProofSubject, prove_offline, total_points

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry.shipped()


def test_a_listed_host_matches(registry):
    found = registry.match("cvec-ctrl.etudiant.gouv.fr")
    assert found is not None and found.domain == "cvec-ctrl.etudiant.gouv.fr"
    assert "French public-sector domain list" in found.sentence()


def test_a_sub_domain_of_an_institution_domain_names_the_owner(registry):
    found = registry.match("api.example-agency.fr", ["example-agency.fr"])
    assert found.sentence("EXA") == (
        "host api.example-agency.fr is under example-agency.fr, an official domain of EXA")


@pytest.mark.parametrize("host", ["evilgouv.fr", "gouv.fr.attacker.example", "someone.github.io",
                                  "gouvfr.example", "x.gitlab.io", "fr", "example.com"])
def test_lookalikes_and_shared_hosting_get_no_credit(registry, host):
    assert registry.match(host) is None
    assert registry.match(host, ["github.io", "gouv.fr"]) is None or host.endswith("gouv.fr")


def test_shared_hosting_never_counts_even_if_an_institution_claims_it(registry):
    assert is_shared_hosting("someone.github.io")
    assert registry.match("someone.github.io", ["someone.github.io"]) is None


def test_reserved_public_sector_suffixes(registry):
    assert registry.match("nouveau-service.gouv.fr").domain in {"gouv.fr",
                                                               "nouveau-service.gouv.fr"}
    assert registry.match("data.gov.uk").domain == "gov.uk"


def test_offline_proofs_of_the_reference_record(registry):
    subject = ProofSubject(kind=Kind.API, base_url="https://cvec-ctrl.etudiant.gouv.fr",
                           spec_url="https://api.gouv.fr/swaggers/api-cvec-new.json",
                           homepage_url="https://api.gouv.fr/les-api/api-cvec",
                           institution_name="CNOUS", first_source_name="api.gouv.fr")
    proofs = prove_offline(subject, registry, NOW)
    assert [p.held for p in proofs] == [True, False, False, False, False]
    assert total_points(proofs) == 40


def test_portal_backlink_and_github_org(registry):
    subject = ProofSubject(kind=Kind.API, base_url="https://api.exemple.gouv.fr",
                           spec_url="https://github.com/Etalab/api/blob/main/openapi.yaml",
                           homepage_url=None, institution_name="DINUM",
                           institution_github_orgs=["etalab"], first_source_name="api.gouv.fr",
                           other_listing_sources=["data.gouv.fr"])
    proofs = prove_offline(subject, registry, NOW)
    assert total_points(proofs) == 40 + 25 + 20
    assert proofs[1].sentence == "also listed by data.gouv.fr"


@pytest.mark.parametrize("kwargs, status, reason", [
    (dict(officialness=0, has_institution=True, source_trusted=True, blocklisted_host="x.fr"),
     Status.REJECTED, "primary host x.fr is on the blocklist"),
    (dict(officialness=0, has_institution=True, source_trusted=True),
     Status.APPROVED, "listed by trusted catalogue api.gouv.fr"),
    (dict(officialness=85, has_institution=True, source_trusted=False),
     Status.APPROVED, "officialness 85 >= 80 with a known institution"),
    (dict(officialness=55, has_institution=True, source_trusted=False),
     Status.QUARANTINED, "officialness 55 is 40-79: waiting for review"),
    (dict(officialness=39, has_institution=True, source_trusted=False),
     Status.REJECTED, "officialness 39 is below 40"),
    (dict(officialness=40, has_institution=False, source_trusted=True),
     Status.QUARANTINED, "officialness 40 is 40-79: waiting for review"),
])
def test_admission_rules_in_order(kwargs, status, reason):
    decision = admit(source_name="api.gouv.fr", **kwargs)
    assert (decision.status, decision.reason) == (status, reason)
