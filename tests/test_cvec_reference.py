"""The reference record: the CVEC control API must come out exactly as the seed describes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import httpx
from werkzeug import Response

from eurodex import pipeline
from eurodex.harvest.apigouvfr import ApiGouvFrHarvester
from eurodex.store import repository as repo
from eurodex.verify.round import verify_entries
from eurodex.web.app import create_app

from .conftest import FIXTURES

CVEC_HOST = "cvec-ctrl.etudiant.gouv.fr"


def test_cvec_entry_reproduces_the_reference_record(store, settings, cvec_stand_in, ca_file,
                                                    serve):
    harvester = ApiGouvFrHarvester(
        spec_override_files={"api-cvec": FIXTURES / "cvec-openapi-2025.json"}
    )
    # Only the shipped snapshot's own folder, with the seed's spec for the CVEC entry.
    pipeline.harvest(store, harvester)

    requests_seen: list[str] = []

    def answer(request):
        requests_seen.append(f"{request.method} {request.host}")
        return Response("CVEC control API", status=200, content_type="text/plain")

    cvec_stand_in.expect_request("/").respond_with_handler(answer)
    checked = replace(
        settings,
        host_overrides={f"{CVEC_HOST}:443": f"127.0.0.1:{cvec_stand_in.port}"},
        extra_ca_file=ca_file,
    )
    with store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        assert entry is not None
        assert entry.base_url == f"https://{CVEC_HOST}"
        entry_id = entry.id
    report = asyncio.run(verify_entries(store, [entry_id], checked))
    pipeline.score(store, [entry_id])

    assert report.outcomes == {"UP": 1}
    # The stand-in was reached under the real host name (Host header kept).
    assert requests_seen and requests_seen[0].split()[1].startswith(CVEC_HOST)

    expected = json.loads((FIXTURES / "cvec-expected-schema.json").read_text("utf-8"))
    with store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        assert entry.state == "VERIFIED"
        assert entry.status == "APPROVED"
        assert entry.status_reason == "listed by trusted catalogue api.gouv.fr"
        assert entry.institution.type == "GOVERNMENT"
        assert entry.institution.acronym == "CNOUS"
        assert entry.base_url == f"https://{CVEC_HOST}"  # the override kept the real host
        check = repo.latest_check(session, entry.id)
        assert check.url.startswith(f"https://{CVEC_HOST}")
        assert check.outcome == "UP" and check.http_status == 200
        assert check.tls_expires_at is not None

        score = repo.score_for(session, entry.id)
        assert (score.officialness, score.availability, score.metadata_completeness,
                score.licence_clarity, score.agent_readiness) == (40, 100, 90, 50, 85)
        assert score.composite_exact == 73.25
        assert score.composite == 73
        assert score.tier == "good"
        assert score.sentences == {
            "officialness": "Official domain only (1 of 5 proofs)",
            "availability": "Latest verification succeeded",
            "metadata_completeness":
                "9 of 10 recommended metadata fields populated (missing: rate limit)",
            "licence_clarity": "No licence declared for this API",
            "agent_readiness": "OpenAPI spec URL declared · Spec format known (openapi) · "
                               "Docs URL present · Homepage URL present · Topic tags assigned",
        }

        schema = repo.schema_for(session, entry.id)
        assert schema.field_count == 17
        assert schema.filterable_count == 5
        assert schema.fields == expected["fields"]
        assert [f["name"] for f in schema.fields if f["owner"] == "filterable"] == expected[
            "filterable"]

        proofs = {p.name.value: p for p in repo.proofs_for(session, entry.id)}
        assert proofs["domain"].held
        assert CVEC_HOST in proofs["domain"].sentence
        assert [n for n, p in proofs.items() if p.held] == ["domain"]

    with serve(create_app(settings, store)) as served:
        page = httpx.get(f"{served.url}/entry/api-cvec").text
        api = httpx.get(f"{served.url}/api/v1/entries/api-cvec/quality-score").json()
    for text in ("Register record", "GOVERNMENT", "VERIFIED", "National", "France", "No auth",
                 'data-testid="composite">73<', 'data-testid="tier">good<',
                 "Data schema (17 fields)", "Filterable via the API (5)",
                 "Official domain only (1 of 5 proofs)", "Latest verification succeeded",
                 "9 of 10 recommended metadata fields populated",
                 "No licence declared for this API", f"https://{CVEC_HOST}",
                 "listed by trusted catalogue api.gouv.fr", "openapi 3.0.3", "curl -sS"):
        assert text in page, text
    for field in expected["fields"]:
        assert f"<code>{field['name']}</code>" in page
    for axis, value in {"officialness": 40, "availability": 100, "metadata_completeness": 90,
                        "licence_clarity": 50, "agent_readiness": 85}.items():
        assert f'data-axis="{axis}"' in page
        assert {"axis": axis, "score": value} in [
            {"axis": a["axis"], "score": a["score"]} for a in api["axes"]]
    assert api["composite"] == 73 and api["tier"] == "good"
