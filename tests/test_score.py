"""The five axes, the composite and the tiers, exactly as methodology 5 states them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eurodex.model import Kind, ProofName, ProofResult, State
from eurodex.score.axes import (
    ScoreFacts,
    agent_readiness,
    availability,
    licence_clarity,
    metadata_completeness,
    officialness,
)
from eurodex.score.composite import score_entry, tier_for
from eurodex.score.licences import normalise_licence

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def proof(name: ProofName, held: bool) -> ProofResult:
    return ProofResult(name, held, "x", None, "s", NOW)


def api_facts(**changes) -> ScoreFacts:
    base = dict(
        kind=Kind.API, public_sector=True, proofs=[proof(ProofName.DOMAIN, True)],
        state=State.VERIFIED, consecutive_failures=0, ever_checked=True, uptime_30d=100.0,
        history_hours=1.0, name="API", description="x" * 30, institution="CNOUS",
        country="FR", topics=["EDUC"], base_url="https://a.gouv.fr", docs_url="https://d",
        spec_url="https://s", homepage_url="https://h", contact="a@b.fr", rate_limit=None,
        auth_type="NONE", licence=None, spec_format="openapi",
    )
    base.update(changes)
    return ScoreFacts(**base)


def test_officialness_sums_the_held_proofs():
    proofs = [proof(ProofName.DOMAIN, True), proof(ProofName.PORTAL_BACKLINK, True),
              proof(ProofName.GITHUB_ORG, False), proof(ProofName.RECIPROCAL_LINK, True),
              proof(ProofName.POLICY_PAGE, True)]
    axis = officialness(api_facts(proofs=proofs))
    assert axis.score == 80
    assert axis.sentence == (
        "Official domain, portal backlink, reciprocal link, policy page (4 of 5 proofs)")


def test_officialness_is_neutral_outside_the_public_sector():
    axis = officialness(api_facts(public_sector=False, proofs=[]))
    assert (axis.score, axis.sentence) == (
        50, "Not public sector: not subject to the proof checker.")


@pytest.mark.parametrize("failures, expected", [(1, 55), (2, 40), (3, 25), (4, 10), (5, 0),
                                                (9, 0)])
def test_availability_falls_with_each_consecutive_failure(failures, expected):
    state = State.FAILING if failures >= 3 else State.VERIFIED
    assert availability(api_facts(consecutive_failures=failures, state=state)).score == expected


def test_availability_states():
    assert availability(api_facts()).score == 100
    assert availability(api_facts(state=State.STALE)).score == 60
    never = availability(api_facts(state=State.UNVERIFIED, ever_checked=False))
    assert (never.score, never.sentence) == (0, "Never checked")


def test_availability_is_capped_by_30_day_uptime_once_24_hours_exist():
    young = availability(api_facts(uptime_30d=90.0, history_hours=23.9))
    assert young.score == 100
    capped = availability(api_facts(uptime_30d=90.4, history_hours=24.0))
    assert capped.score == 90
    assert "capped by 30-day uptime 90.4%" in capped.sentence
    stale = availability(api_facts(state=State.STALE, uptime_30d=95.0, history_hours=48))
    assert stale.score == 60  # a cap never raises a score


def test_metadata_completeness_ignores_placeholders():
    axis = metadata_completeness(api_facts())
    assert axis.score == 90
    assert axis.sentence == (
        "9 of 10 recommended metadata fields populated (missing: rate limit)")
    for placeholder in ("", "-", "n/a", "N/A", "nan", "null", "none", "TBD", "TODO", "unknown"):
        assert metadata_completeness(api_facts(contact=placeholder)).score == 80, placeholder
    assert metadata_completeness(api_facts(description="x" * 29)).score == 80
    assert metadata_completeness(api_facts(rate_limit="50 req/s")).score == 100


def test_dataset_metadata_has_thirteen_fields():
    facts = ScoreFacts(kind=Kind.DATASET, public_sector=True, proofs=[], state=State.VERIFIED,
                       consecutive_failures=0, ever_checked=True, uptime_30d=None,
                       history_hours=0, name="D", description="d" * 40, licence="cc-by-4.0",
                       distribution_count=1, distribution_formats=["CSV"])
    axis = metadata_completeness(facts)
    assert axis.sentence.startswith("5 of 13")
    assert axis.score == round(100 * 5 / 13)


@pytest.mark.parametrize("licence, kind, score", [
    (None, Kind.API, 50), (None, Kind.DATASET, 0), ("cc-by-4.0", Kind.DATASET, 100),
    ("https://www.etalab.gouv.fr/licence-ouverte-open-licence", Kind.DATASET, 100),
    ("http://creativecommons.org/licenses/by/4.0/", Kind.DATASET, 100),
    ("ODbL", Kind.DATASET, 100), ("dl-de-by-2.0", Kind.DATASET, 100),
    ("cc-by-nc-4.0", Kind.DATASET, 60), ("Use it as you like, mostly", Kind.DATASET, 25),
    ("cc0-1.0", Kind.API, 100), ("n/a", Kind.DATASET, 0),
])
def test_licence_clarity(licence, kind, score):
    facts = api_facts(kind=kind, licence=licence)
    assert licence_clarity(facts).score == score


def test_licence_normalisation_names_the_licence():
    assert normalise_licence("Licence Ouverte 2.0") is None or normalise_licence(
        "Licence Ouverte 2.0").id == "etalab-2.0"
    assert normalise_licence("lo-2.0").id == "etalab-2.0"
    assert normalise_licence("OGL-UK-3.0").id == "ogl-uk-3.0"
    assert normalise_licence("") is None


def test_agent_readiness_for_an_api():
    axis = agent_readiness(api_facts())
    assert axis.score == 85
    assert axis.sentence == ("OpenAPI spec URL declared · Spec format known (openapi) · "
                             "Docs URL present · Homepage URL present · Topic tags assigned")
    assert agent_readiness(api_facts(rate_limit="10/s")).score == 100
    assert agent_readiness(api_facts(spec_format=None, spec_url=None)).score == 35


def test_agent_readiness_for_a_dataset():
    facts = ScoreFacts(kind=Kind.DATASET, public_sector=True, proofs=[], state=State.VERIFIED,
                       consecutive_failures=0, ever_checked=True, uptime_30d=None,
                       history_hours=0, documentation="https://doc", distribution_count=2,
                       landing_page="https://lp", topics=["ENVI"],
                       distribution_formats=["PDF", "CSV"], schema_captured=True,
                       licence="etalab-2.0")
    assert agent_readiness(facts).score == 100
    facts.distribution_formats = ["PDF"]
    assert agent_readiness(facts).score == 80


def test_composite_and_tier_of_the_reference_record():
    quality = score_entry(api_facts())
    assert [a.score for a in quality.axes] == [40, 100, 90, 50, 85]
    assert quality.composite_exact == 73.25
    assert (quality.composite, quality.tier) == (73, "good")


@pytest.mark.parametrize("composite, tier", [(100, "excellent"), (80, "excellent"),
                                             (79, "good"), (60, "good"), (59, "fair"),
                                             (40, "fair"), (39, "poor"), (0, "poor")])
def test_tiers(composite, tier):
    assert tier_for(composite) == tier


def test_composite_rounds_half_up():
    # 25% x 42 + 25% x 100 + 20% x 90 + 15% x 50 + 15% x 85 = 73.75 -> 74
    proofs = [proof(ProofName.DOMAIN, True)]
    quality = score_entry(api_facts(proofs=proofs, public_sector=True))
    assert quality.composite == 73
    half = score_entry(api_facts(proofs=[proof(ProofName.DOMAIN, True),
                                         proof(ProofName.POLICY_PAGE, True)],
                                 rate_limit="x"))
    # 0.25*45 + 25 + 20 + 7.5 + 15 = 78.75 -> 79
    assert half.composite_exact == 78.75 and half.composite == 79
