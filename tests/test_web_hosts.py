"""Absolute links never follow a Host header the operator did not list (web/hosts.py).

Real uvicorn on a loopback port; the Host header is set by hand, as an attacker would.
"""

from __future__ import annotations

import httpx
import pytest

from eurodex.settings import Settings
from eurodex.web.app import create_app
from eurodex.web.hosts import answered_hosts

# Every one of these publishes absolute links built from the request's address.
LINKING_PATHS = ("/sitemap.xml", "/llms.txt", "/api/v1/feeds/rss", "/api/v1/entries/api-cvec",
                 "/entry/api-cvec", "/api/v1/catalog/dcat.ttl")


@pytest.fixture
def served(harvested_store, serve):
    settings = Settings(database_url=harvested_store.url,
                        base_url="https://register.example.eu",
                        allowed_hosts=("mirror.example.org", "*.eurodex.example"))
    with serve(create_app(settings, harvested_store)) as s:
        yield s


def test_an_unlisted_host_is_refused_before_any_link_is_built(served):
    for path in LINKING_PATHS:
        answer = httpx.get(served.url + path, headers={"host": "evil.example"})
        assert answer.status_code == 400, path
        assert "does not answer to 'evil.example'" in answer.text
        assert "evil.example/" not in answer.text
    for host in ("gouv.fr.evil.example", "eurodex.example.evil", "register.example.eu.evil",
                 "localhost:99999", "localhost:abc", "evil.example@localhost", "localhost/x",
                 "localhost#x", "[::1", "a b", "lócalhost".encode()):
        assert httpx.get(served.url + "/", headers={"host": host}).status_code == 400, host
    json_error = httpx.get(served.url + "/api/v1/entries", headers={"host": "evil.example"})
    assert json_error.status_code == 400 and json_error.json()["status"] == 400
    assert "does not answer to 'evil.example'" in json_error.json()["error"]


def test_listed_names_are_answered_and_their_links_follow_them(served):
    for path in LINKING_PATHS:
        assert httpx.get(served.url + path).status_code == 200, path
    for host in ("register.example.eu", "mirror.example.org:8443", "eu.eurodex.example",
                 "localhost", f"127.0.0.1:{served.port}", "[::1]:80"):
        answer = httpx.get(served.url + "/sitemap.xml", headers={"host": host})
        assert answer.status_code == 200, host
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        assert f"http://{name}" in answer.text, host


def test_health_answers_under_any_name(served):
    answer = httpx.get(served.url + "/healthz", headers={"host": "10.1.2.3:8000"})
    assert answer.status_code == 200 and answer.json()["ok"]


def test_the_names_come_from_the_settings_and_the_listening_address():
    settings = Settings.from_env({"EURODEX_BASE_URL": "https://Register.Example.eu/",
                                  "EURODEX_ALLOWED_HOSTS": " a.example , *.b.example ,"
                                  "proxy.example:8443,https://schemed.example/"})
    assert settings.allowed_hosts == ("a.example", "*.b.example", "proxy.example:8443",
                                      "https://schemed.example/")
    hosts = answered_hosts(settings, listening_on="192.0.2.7")
    assert {"localhost", "127.0.0.1", "::1", "register.example.eu", "a.example",
            "*.b.example", "proxy.example", "schemed.example", "192.0.2.7"} == set(hosts)
    assert "0.0.0.0" not in answered_hosts(settings, listening_on="0.0.0.0")
