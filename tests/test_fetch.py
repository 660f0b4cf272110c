"""Checker.fetch: a page read through the same guarded, polite client as the checks."""

from __future__ import annotations

import gzip

from werkzeug import Response

from eurodex.verify.check import Checker, CheckSettings


def loopback() -> CheckSettings:
    return CheckSettings(allowed_networks=["127.0.0.0/8"])


async def test_fetch_keeps_the_body_after_a_redirect(httpserver):
    httpserver.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data(
        "<html><a href='https://x.gouv.fr'>x</a></html>", content_type="text/html; charset=utf-8")
    async with Checker(loopback()) as checker:
        page = await checker.fetch(httpserver.url_for("/old"))
    assert page.ok and page.result.http_status == 200 and page.result.method == "GET"
    assert page.result.final_url.endswith("/new")
    assert "https://x.gouv.fr" in page.text()
    assert page.content_type.startswith("text/html") and not page.truncated


async def test_fetch_decodes_gzip_and_respects_its_cap(httpserver):
    body = gzip.compress(b"a" * 500_000)
    httpserver.expect_request("/big").respond_with_data(
        body, headers={"Content-Encoding": "gzip"}, content_type="text/plain")
    async with Checker(loopback()) as checker:
        page = await checker.fetch(httpserver.url_for("/big"), max_bytes=10_000)
    assert page.body == b"a" * 10_000
    assert page.truncated


async def test_fetch_of_a_missing_page_has_no_body(httpserver):
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    async with Checker(loopback()) as checker:
        page = await checker.fetch(httpserver.url_for("/gone"))
    assert not page.ok and page.body == b"" and page.result.reason == "http_404"


async def test_fetch_never_reaches_a_loopback_address_unless_allowed(httpserver):
    async with Checker(CheckSettings()) as checker:
        page = await checker.fetch(httpserver.url_for("/"))
    assert page.result.reason == "blocked_address" and page.body == b""
    assert httpserver.log == []
