"""The MCP server at /mcp, through the official MCP client over HTTP against a real uvicorn."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mcp import Client

from eurodex.settings import Settings
from eurodex.web.app import create_app

from .conftest import check_cvec_up

EXPECTED_SCHEMA = Path(__file__).parent / "fixtures" / "cvec-expected-schema.json"
TOOLS = {"search_entries", "get_entry", "get_entry_checks", "get_entry_schema",
         "find_authoritative_source"}


@pytest.fixture
def served(harvested_store, serve):
    check_cvec_up(harvested_store)
    with serve(create_app(Settings(database_url=harvested_store.url), harvested_store)) as s:
        yield s


async def test_the_tools_answer_through_the_official_client(served):
    async with Client(served.url + "/mcp") as client:
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        assert all(t.annotations.read_only_hint for t in listed)

        found = (await client.call_tool("search_entries", {"query": "cvec"})).structured_content
        assert found["total"] == 1
        hit = found["entries"][0]
        assert hit["slug"] == "api-cvec" and hit["state"] == "VERIFIED"
        assert hit["page_url"] == served.url + "/entry/api-cvec"  # absolute, from the request

        entry = (await client.call_tool("get_entry", {"slug": "api-cvec"})).structured_content
        held = [p for p in entry["proofs"] if p["held"]]
        assert held and all(p["sentence"] for p in held)
        assert entry["officialness"] == min(100, sum(p["points"] for p in held))
        assert [a["axis"] for a in entry["axes"]] == [
            "officialness", "availability", "metadata_completeness", "licence_clarity",
            "agent_readiness"]
        assert entry["institution"] == "Centre national des œuvres universitaires et scolaires"

        checks = (await client.call_tool("get_entry_checks",
                                         {"slug": "api-cvec"})).structured_content
        assert checks["state"] == "VERIFIED" and checks["uptime"]["24h"] == 100.0
        assert checks["total"] == 1 and checks["checks"][0]["http_status"] == 200

        schema = (await client.call_tool("get_entry_schema",
                                         {"slug": "api-cvec"})).structured_content
        expected = json.loads(EXPECTED_SCHEMA.read_text())["fields"]
        assert [f["name"] for f in schema["fields"]] == [f["name"] for f in expected]
        assert schema["filterable_count"] == 5

        missing = await client.call_tool("get_entry", {"slug": "no-such-entry"})
        assert missing.is_error
        assert "no entry 'no-such-entry'" in missing.content[0].text

        for tool, arguments in (("search_entries", {"query": "cvec", "limit": 0}),
                                ("search_entries", {"query": "cvec", "limit": 51}),
                                ("get_entry_checks", {"slug": "api-cvec", "limit": 101})):
            refused = await client.call_tool(tool, arguments)
            assert refused.is_error and "limit" in refused.content[0].text, arguments


def test_a_get_is_answered_at_once_not_held_open(served):
    for method in ("GET", "HEAD"):
        answer = httpx.request(method, served.url + "/mcp", timeout=5,
                               headers={"accept": "text/event-stream"})
        assert answer.status_code == 405 and answer.headers["allow"] == "POST", method


async def test_the_authoritative_source_is_the_best_proven_match(served):
    async with Client(served.url + "/mcp") as client:
        answer = (await client.call_tool("find_authoritative_source", {
            "topic": "statut étudiant boursier", "country": "fr"})).structured_content
        assert answer["matched_by"] == "words" and answer["country"] == "FR"
        best = answer["best"]
        assert best["slug"] == "api-statut-etudiant-boursier"
        assert best["officialness"] > 0 and best["proven_by"]
        assert best["proven_by"][0] in answer["why"]
        ranked = [best] + answer["alternatives"]
        assert [c["officialness"] for c in ranked] == sorted(
            (c["officialness"] for c in ranked), reverse=True)

        # A theme's name finds its entries when no words match.
        by_theme = (await client.call_tool("find_authoritative_source", {
            "topic": "EDUC", "country": "FR"})).structured_content
        assert by_theme["matched_by"] == "theme" and by_theme["theme"] == "EDUC"
        assert by_theme["best"] is not None

        nothing = (await client.call_tool("find_authoritative_source", {
            "topic": "statut étudiant", "country": "DE"})).structured_content
        assert nothing["best"] is None and nothing["considered"] == 0


async def test_mcp_answers_503_outside_the_app_lifespan(harvested_store):
    app = create_app(Settings(database_url=harvested_store.url), harvested_store)
    transport = httpx.ASGITransport(app=app)  # no lifespan: the session manager is not running
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        response = await c.post("/mcp", json={})
    assert response.status_code == 503
    assert response.json() == {"ok": False, "status": 503,
                               "error": "the MCP server is not running"}
