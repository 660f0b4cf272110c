"""What a submission must be before anything is fetched, and how refusals are worded.

Validation is tested both on its own and over real HTTP, where the processing step is
replaced by one that records its calls: a refused value must never reach it, and must not use
up the client's hourly quota. The submitter's messages for network failures are read from
real failures (a ``.invalid`` name, a closed port, a certificate for another host) on loopback
stand-ins; the schemathesis run posts generated bodies against a quota already spent, so a
valid body is answered 429 and nothing is ever fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug import Response

from eurodex.model import CheckResult, Outcome
from eurodex.settings import Settings
from eurodex.submissions import process
from eurodex.submissions.process import SubmissionRefused, validate
from eurodex.submissions.ratelimit import RateLimiter
from eurodex.verify.check import Fetched
from eurodex.web import submit as submit_web
from eurodex.web.app import create_app
from eurodex.web.forms import CSRF_COOKIE

from . import test_submissions

PORTAL_HOST = test_submissions.PORTAL_HOST
CLOSED_HOST = test_submissions.CLOSED_HOST
WRONG_CERT_HOST = test_submissions.WRONG_CERT_HOST
# The served register with its TLS stand-ins, shared with test_submissions.
stand_ins, site = test_submissions.stand_ins, test_submissions.site
PROCESSED_URL = f"https://{CLOSED_HOST}/"  # a name: only processing can tell its fate
HTML = {"accept": "text/html"}


# -- validation on its own ----------------------------------------------------------------


@pytest.mark.parametrize("url, words", [
    ("https://exa mple.org", "must not contain spaces or control characters"),
    ("https://example.org/a b", "must not contain spaces or control characters"),
    ("https://exa\tmple.org/", "must not contain spaces or control characters"),
    ("https://example.org\x00/", "must not contain spaces or control characters"),
    ("https://example.org:99999/", "the URL's port must be a number from 1 to 65535, not "
                                   "'99999'"),
    ("https://example.org:0/", "the URL's port must be a number from 1 to 65535"),
    ("https://example.org:+443/", "the URL's port must be a number from 1 to 65535"),
    ("https://example.org:x/", "the URL's port must be a number from 1 to 65535"),
    ("https://example.org:\u0664\u0664\u0663/", "the URL's port must be a number from 1"),
    ("https://-bad.example.org/", "the URL's host '-bad.example.org' is not a valid host"),
    ("https://a..b.example.org/", "the URL's host 'a..b.example.org' is not a valid host"),
    ("https://a<b.example.org/", "the URL's host 'a<b.example.org' is not a valid host"),
    (f"https://{'a' * 64}.example.org/", "is not a valid host name or IP address"),
    ("http://[::1/", "the URL 'http://[::1/' is not a valid URL"),
    ("https://a\\b.example.org/", "is not a valid URL"),
    ("ftp://example.org/", "must start with http:// or https:// and name a host"),
    ("https:///path", "must start with http:// or https:// and name a host"),
    ("not a url", "must not contain spaces"),
    ("example.org", "must start with http:// or https://"),
    ("https://user:secret@example.org/", "must not carry a user name or password"),
    ("https://user@example.org/", "must not carry a user name or password"),
    ("https://example.org/" + "a" * 2000, "the URL is longer than 2000 characters"),
])
def test_a_malformed_url_is_refused_with_a_sentence_about_the_url(url, words):
    with pytest.raises(SubmissionRefused) as refused:
        validate("Example API", url, "FR")
    assert words in str(refused.value)
    assert "Port out of range" not in str(refused.value)


@pytest.mark.parametrize("name", ["\u0000\u0000", "Example\u0000API", "\x7fExample",
                                  "Example\x85API\x01", "Exa\ud800mple",
                                  "Example \u202eIPA"])
def test_a_name_with_control_characters_is_refused(name):
    with pytest.raises(SubmissionRefused) as refused:
        validate(name, "https://example.org/", "FR")
    assert str(refused.value) == "the name must not contain control characters"


@pytest.mark.parametrize("name", ["", " ", "a", "  a \n", "\t\n\r ", "a" * 201])
def test_a_name_is_measured_once_trimmed(name):
    with pytest.raises(SubmissionRefused) as refused:
        validate(name, "https://example.org/", "FR")
    assert str(refused.value) == "the name must have 2 to 200 characters"


@pytest.mark.parametrize("country", ["\u00df", "\ufb00", "\u0131\u0131", "F1", "FRA", "F",
                                     "", "F R", "\uff26\uff32"])
def test_a_country_is_two_ascii_letters(country):
    """"ß" upper-cases to "SS" and "ﬀ" to "FF": they were taken for codes before."""
    with pytest.raises(SubmissionRefused) as refused:
        validate("Example API", "https://example.org/", country)
    assert "the country must be a two-letter code" in str(refused.value)


@pytest.mark.parametrize("name, url, country, cleaned", [
    ("  Example   API \n", "https://example.org/", "FR",
     ("Example API", "https://example.org/", "FR")),
    ("Example\tAPI", " https://example.org:8443/v1?q=1 ", " fr ",
     ("Example API", "https://example.org:8443/v1?q=1", "FR")),
    ("Données publiques", "HTTPS://Bücher.example/", "eu",
     ("Données publiques", "HTTPS://Bücher.example/", "EU")),
    ("IPv6 API", "http://[::ffff:127.0.0.1]:8123/", "De",
     ("IPv6 API", "http://[::ffff:127.0.0.1]:8123/", "DE")),
    ("Trailing dot", "https://example.org.:65535/", "nl",
     ("Trailing dot", "https://example.org.:65535/", "NL")),
    ("Under_score", "https://my_api.example.org/", "FR",
     ("Under_score", "https://my_api.example.org/", "FR")),
])
def test_real_submissions_still_pass(name, url, country, cleaned):
    form = validate(name, url, country)
    assert (form.name, form.url, form.country) == cleaned


# -- refusals over HTTP, before any fetch and without using the quota -----------------------


@pytest.fixture
def processed(monkeypatch):
    """The URLs that reached processing (the fetch); processing itself is left as it is."""
    seen: list[str] = []
    real = submit_web.submit

    async def recording(store, settings, form, curation=None):
        seen.append(form.url)
        return await real(store, settings, form, curation)

    monkeypatch.setattr(submit_web, "submit", recording)
    return seen


def post(served, url, name="Example API", country="FR"):
    """Posted as ASCII JSON, so a lone surrogate travels as the ``\\ud800`` escape."""
    body = json.dumps({"name": name, "url": url, "country": country})
    return httpx.post(served.url + "/api/v1/submissions", timeout=60, content=body,
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize("name, url, words", [
    ("Example API", "https://exa mple.org", "the URL must not contain spaces"),
    ("Example API", "https://example.org:99999/", "the URL's port must be a number from 1 "
                                                  "to 65535, not '99999'"),
    ("\u0000\u0000", "https://example.org/", "the name must not contain control characters"),
    ("Exa\ud800mple", "https://example.org/", "the name must not contain control characters"),
])
def test_invalid_submissions_are_refused_before_any_fetch(site, processed, name, url, words):
    response = post(site, url, name=name)
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert processed == []


def test_the_form_refuses_invalid_values_before_any_fetch(site, processed):
    with httpx.Client(base_url=site.url, headers=HTML) as client:
        page = client.get("/submit")
        client.cookies.set(CSRF_COOKIE, page.cookies[CSRF_COOKIE])
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        refused = client.post("/submit", data={"name": "Example", "country": "FR",
                                               "url": "https://example.org:99999/",
                                               "csrf_token": token})
    assert refused.status_code == 422
    assert "Refused: the URL&#39;s port must be a number from 1 to 65535" in refused.text
    assert processed == []


def test_only_processed_submissions_use_up_the_quota(site, processed):
    """Refusals before any fetch are free; processed ones (refused or not) count, 5 an hour."""
    with httpx.Client(base_url=site.url, headers=HTML) as client:
        page = client.get("/submit")
        client.cookies.set(CSRF_COOKIE, page.cookies[CSRF_COOKIE])
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        bad = {"name": "Example", "url": "not a url", "country": "FR", "csrf_token": token}
        assert [client.post("/submit", data=bad).status_code for _ in range(4)] == [422] * 4
        assert [post(site, "https://exa mple.org").status_code for _ in range(4)] == [422] * 4
        # An address the guard refuses without any lookup is refused for free too.
        assert [post(site, "http://10.0.0.1/").status_code for _ in range(6)] == [422] * 6
        # Five processed submissions: whatever their outcome, they were taken up.
        inner = {**bad, "url": PROCESSED_URL}
        assert client.post("/submit", data=inner).status_code == 422
        assert [post(site, PROCESSED_URL).status_code for _ in range(4)] == [422] * 4
        assert len(processed) == 5
        limited = post(site, PROCESSED_URL)
        assert limited.status_code == 429 and 3500 <= int(limited.headers["retry-after"]) <= 3600
        form_limited = client.post("/submit", data=inner)
        assert form_limited.status_code == 429 and "retry-after" in form_limited.headers
        assert len(processed) == 5
        # Past the quota, an invalid submission is still told what is wrong with it.
        still = post(site, "https://exa mple.org")
        assert still.status_code == 422 and "spaces" in still.json()["error"]


def test_a_broken_body_is_refused_without_using_the_quota(site, processed):
    url = site.url + "/api/v1/submissions"
    json_kind = {"content-type": "application/json"}
    for _ in range(6):
        assert httpx.post(url, content=b"name=x").status_code == 415
        too_big = httpx.post(url, content=b" " * (17 * 1024), headers=json_kind)
        assert too_big.status_code == 413 and too_big.json()["status"] == 413
        deep = httpx.post(url, content=b"[" * 8000 + b"]" * 8000, headers=json_kind)
        assert deep.status_code == 422 and "name, url and country" in deep.json()["error"]
    assert post(site, PROCESSED_URL).status_code == 422  # processed: still had quota
    assert processed == [PROCESSED_URL]


# -- the submitter's words for network failures --------------------------------------------


def test_a_missing_host_is_told_in_plain_words(site):
    error = post(site, "https://nothing.invalid/").json()["error"]
    assert error == ("https://nothing.invalid/ could not be read: the host nothing.invalid "
                     "could not be found (DNS)")


def test_a_refused_connection_is_told_in_plain_words(site):
    error = post(site, f"https://{CLOSED_HOST}/").json()["error"]
    assert error == (f"https://{CLOSED_HOST}/ could not be read: the host {CLOSED_HOST} "
                     "refused the connection")


def test_a_certificate_for_another_host_is_told_in_plain_words(site):
    error = post(site, f"https://{WRONG_CERT_HOST}/").json()["error"]
    assert error == (f"https://{WRONG_CERT_HOST}/ could not be read: the TLS certificate of "
                     f"{WRONG_CERT_HOST} is made out to another host")


def test_a_redirect_to_a_missing_host_says_where_it_redirects(site, stand_ins):
    _, portal = stand_ins
    portal.expect_request("/").respond_with_response(
        Response(status=302, headers={"Location": "https://nothing.invalid/api"}))
    error = post(site, f"https://{PORTAL_HOST}/").json()["error"]
    assert error == (f"https://{PORTAL_HOST}/ could not be read (it redirects to "
                     "https://nothing.invalid/api): the host nothing.invalid could not be "
                     "found (DNS)")


def _failed(reason: str, error: str, http_status: int | None = None) -> Fetched:
    result = CheckResult(url="https://api.example.org/", started_at=datetime.now(UTC),
                         method="GET", outcome=Outcome.DOWN, http_status=http_status,
                         reason=reason, error=error, final_url="https://api.example.org/")
    return Fetched(result, b"", "", False)


@pytest.mark.parametrize("reason, words", [
    ("dns", "the host api.example.org could not be found (DNS)"),
    ("refused", "the host api.example.org refused the connection"),
    ("connect_timeout", "the host api.example.org did not accept a connection in time"),
    ("timeout", "the host api.example.org did not answer in time"),
    ("tls_certificate", "the TLS certificate of api.example.org is not trusted"),
    ("tls_expired", "the TLS certificate of api.example.org has expired"),
    ("tls_hostname", "the TLS certificate of api.example.org is made out to another host"),
    ("tls_other", "no secure (TLS) connection to api.example.org could be made"),
    ("connection_error", "the connection to api.example.org failed"),
])
def test_library_errors_never_reach_the_submitter(reason, words):
    library = ("ClientConnectorError: Cannot connect to host api.example.org:443 "
               "ssl:default [SSLCertVerificationError: ...]")
    message = process._refusal("https://api.example.org/", _failed(reason, library))
    assert message == f"https://api.example.org/ could not be read: {words}"


def test_an_http_error_is_told_by_its_status_without_the_body_error():
    fetched = _failed("http_5xx", "HTTP 502 from https://api.example.org/; body: "
                                  "ClientPayloadError: Response payload is not completed", 502)
    message = process._refusal("https://api.example.org/", fetched)
    assert message == "https://api.example.org/ could not be read: it answered HTTP 502"


@pytest.mark.parametrize("reason, error", [
    ("redirect_loop", "redirect loop back to https://api.example.org/"),
    ("too_many_redirects", "more than 10 redirects"),
])
def test_a_redirect_failure_keeps_its_own_words(reason, error):
    """These carry the last hop's 3xx status, which alone would not say what went wrong."""
    message = process._refusal("https://api.example.org/", _failed(reason, error, 302))
    assert message == f"https://api.example.org/ could not be read: {error}"


# -- a refused address: normalised is not redirected ---------------------------------------


def test_a_normalised_address_is_not_called_a_redirect(site, httpserver):
    httpserver.expect_request("/").respond_with_data("secret admin page")
    url = f"http://[::ffff:127.0.0.1]:{httpserver.port}/"
    error = post(site, url).json()["error"]
    assert error.startswith(f"{url} was refused: ")
    assert "redirects" not in error and "(loopback address)" in error
    assert httpserver.log == []


def test_a_real_redirect_to_a_normalised_address_is_still_called_one(site, stand_ins,
                                                                     httpserver):
    _, portal = stand_ins
    httpserver.expect_request("/").respond_with_data("secret admin page")
    portal.expect_request("/").respond_with_response(Response(status=302, headers={
        "Location": f"http://[::ffff:127.0.0.1]:{httpserver.port}/"}))
    error = post(site, f"https://{PORTAL_HOST}/").json()["error"]
    assert error.startswith(f"https://{PORTAL_HOST}/ was refused (it redirects to "
                            f"http://[::ffff:7f00:1]:{httpserver.port}/): ")
    assert "(loopback address)" in error
    assert httpserver.log == []


# -- the OpenAPI description of the POST -----------------------------------------------------


class SpentQuota(RateLimiter):
    """A quota already used up: every valid submission is answered 429, none is fetched."""

    def hit(self, key: str) -> int | None:
        return 3600


@pytest.fixture
def spent_site(store, serve, monkeypatch):
    """The register with the API limit off and the submission quota spent (see the module)."""

    async def never(*args, **kwargs):
        raise AssertionError("a submission was processed despite the spent quota")

    monkeypatch.setattr(submit_web, "submit", never)
    app = create_app(Settings(database_url=store.url, api_rate_per_minute=0), store)
    app.state.submission_limiter = SpentQuota()
    with serve(app) as served:
        yield served


def test_the_submission_body_and_its_errors_are_described(spent_site):
    document = httpx.get(spent_site.url + "/openapi.json").json()
    operation = document["paths"]["/api/v1/submissions"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"name", "url", "country"}
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "name": "string", "url": "string", "country": "string"}
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for status in ("413", "415", "422", "429"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == (
            error), status
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_submission_endpoint_answers_generated_bodies_as_documented(spent_site):
    """Generated bodies never cause a 500 and every answer is one the description lists.

    Valid-looking bodies are answered 429 (the quota is spent) or 422: the schema cannot
    say every rule (a valid host, no control characters), so "valid data is accepted" is
    not asked of it.
    """
    schema = schemathesis.openapi.from_url(spent_site.url + "/openapi.json")
    operation = schema.include(method="POST", path="/api/v1/submissions") \
        .get_all_operations().__next__().ok()
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        statuses.add(case.call_and_validate(excluded_checks=[positive_data_acceptance]).status_code)

    run()
    assert statuses <= {415, 422, 429, 413}, statuses
    assert 422 in statuses
