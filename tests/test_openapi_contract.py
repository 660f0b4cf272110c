"""schemathesis against /openapi.json: every documented route answers as documented.

The register is served by a real uvicorn with the rate limit off (schemathesis sends many
requests from one client). Only GET operations are exercised: the one POST, a submission,
fetches the submitted URL, and no test touches the internet. Examples per operation are
bounded so the run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from eurodex.settings import Settings
from eurodex.web.app import create_app

from .conftest import ServedApp, copy_of_template

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory, harvested_template) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("contract")
    with copy_of_template(harvested_template, folder, "contract") as store:
        app = create_app(Settings(database_url=store.url, api_rate_per_minute=0), store)
        with ServedApp(app) as served:
            yield served


def test_every_get_route_answers_as_its_openapi_description_says(contract_app):
    """Each GET operation, fuzzed from its description; every failure is reported at once.

    (schemathesis's lazy pytest fixture does not run under pytest 9, so the operations are
    driven through its Python API: one bounded Hypothesis run each.)
    """
    schema = schemathesis.openapi.from_url(contract_app.url + "/openapi.json")
    failures, tested = [], []
    for result in schema.include(method="GET").get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate()

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its findings
            failures.append(f"{operation.label}: {exc}")
        tested.append(operation.label)
    assert len(tested) >= 18, tested
    assert not failures, "\n\n".join(failures)


def test_openapi_is_3_1_and_every_json_route_has_a_response_model(contract_app):
    document = httpx.get(contract_app.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            success = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            content = success.get("content", {})
            if "application/json" in content:
                assert "$ref" in content["application/json"]["schema"], (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and response.get("content"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
    for path in ("/api/v1/catalog/dcat.ttl", "/api/v1/catalog/summary",
                 "/api/v1/feeds/atom", "/api/v1/export/entries.json", "/badge/{slug}.json"):
        assert path in document["paths"]
