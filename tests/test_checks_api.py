"""What the register publishes of its checks: ``/api/v1/entries/{slug}/checks`` and the
"Verification status" section of the entry page with its server-drawn SVG chart."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from eurodex.model import Outcome
from eurodex.store.history import DayStat, hour_of
from eurodex.store.tables import Entry
from eurodex.web.app import create_app
from eurodex.web.chart import describe, uptime_band, uptime_chart

from .verify_support import hours_ago, loop_settings, make_entries, now_utc, record

# (minutes ago, outcome, latency): three old successes, then four checks in the last hour.
PLAN = [(40 * 1440, Outcome.UP, 300), (20 * 1440, Outcome.UP, 300), (10 * 1440, Outcome.UP, 300),
        (40, Outcome.DOWN, None), (30, Outcome.UP, 100), (20, Outcome.UP, 200),
        (10, Outcome.DOWN, 150)]


@pytest.fixture
def checked(store, serve):
    """One entry with checks over 40 days, served by a real uvicorn; yields the check times."""
    (entry_id,) = make_entries(store, 1, base_url=lambda i: "https://api.example.invalid/")
    times = []
    for minutes, outcome, latency in PLAN:
        at = now_utc() - timedelta(minutes=minutes)
        record(store, entry_id, outcome, at, latency_ms=latency)
        times.append((at, outcome, latency))
    with serve(create_app(loop_settings(store), store)) as served:
        yield served, times


def test_checks_api_pages_raw_checks_newest_first(checked):
    served, _ = checked
    body = httpx.get(f"{served.url}/api/v1/entries/test-0/checks",
                     params={"limit": 2, "offset": 1}).json()
    assert set(body) == {"slug", "state", "last_check_at", "last_success_at",
                         "consecutive_failures", "uptime", "history_hours", "total", "limit",
                         "offset", "checks", "days", "rollups"}
    assert (body["slug"], body["total"], body["limit"], body["offset"]) == ("test-0", 7, 2, 1)
    assert [c["latency_ms"] for c in body["checks"]] == [200, 100]  # 20 and 30 minutes ago
    assert set(body["checks"][0]) == {"url", "started_at", "method", "http_status",
                                      "latency_ms", "outcome", "reason", "error", "bytes_read",
                                      "tls_expires_at"}
    assert body["checks"][0]["outcome"] == "UP" and body["checks"][0]["http_status"] == 200
    newest = httpx.get(f"{served.url}/api/v1/entries/test-0/checks",
                       params={"limit": 1}).json()["checks"][0]
    assert (newest["outcome"], newest["reason"]) == ("DOWN", "http_5xx")
    assert (body["state"], body["consecutive_failures"]) == ("VERIFIED", 1)


def test_checks_api_gives_rollups_and_uptime_windows(checked):
    served, times = checked
    body = httpx.get(f"{served.url}/api/v1/entries/test-0/checks").json()
    assert body["days"] == 90
    assert body["uptime"] == {"24h": 50.0, "7d": 50.0, "30d": 100 * 4 / 6, "90d": 100 * 5 / 7}
    assert len(body["rollups"]) == len({hour_of(at) for at, _, _ in times})
    hours = [r["hour"] for r in body["rollups"]]
    assert hours == sorted(hours)
    last_hour = hour_of(times[-1][0])
    in_last = [(o, lat) for at, o, lat in times if hour_of(at) == last_hour]
    last = body["rollups"][-1]
    assert (last["checks"], last["decisive"], last["successes"]) == (
        len(in_last), len(in_last), sum(o is Outcome.UP for o, _ in in_last))
    latencies = [lat for _, lat in in_last if lat is not None]
    assert last["mean_latency_ms"] == sum(latencies) / len(latencies)
    assert body["history_hours"] >= 40 * 24
    week = httpx.get(f"{served.url}/api/v1/entries/test-0/checks", params={"days": 7}).json()
    assert week["days"] == 7
    assert len(week["rollups"]) == len({hour_of(at) for at, _, _ in times[3:]})


def test_checks_api_errors_have_the_register_shape(checked):
    served, _ = checked
    missing = httpx.get(f"{served.url}/api/v1/entries/nope/checks")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error": "no such entry", "status": 404}
    bad = httpx.get(f"{served.url}/api/v1/entries/test-0/checks", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["ok"] is False


def test_entry_page_shows_last_check_uptime_and_the_svg_chart(checked):
    served, times = checked
    html = httpx.get(f"{served.url}/entry/test-0").text
    section = HTMLParser(html).css_first("section#verification")
    assert section is not None
    assert "down: server error" in section.css_first('[data-testid="outcome"]').text()
    assert section.css_first('[data-testid="http-status"]').text() == "503"
    assert section.css_first('[data-testid="latency"]').text() == "150 ms"
    assert section.css_first('[data-testid="effective-state"]').text() == "VERIFIED"
    last = section.css_first("dd time")
    assert last.text() == "10min ago" and last.attributes["title"].endswith("UTC")
    uptime = {td.attributes["data-window"]: td.text() for td in section.css("td.uptime")}
    assert uptime == {"24h": "50.0 %", "7d": "50.0 %", "30d": "66.7 %", "90d": "71.4 %"}

    svg = section.css_first("svg.uptime-chart")
    assert svg.attributes["role"] == "img"
    assert svg.attributes["aria-labelledby"] == "uptime-chart-title uptime-chart-desc"
    assert svg.css_first("title").text() == "Uptime and latency, last 90 days"
    days = {at.date() for at, _, _ in times}
    assert f"{len(days)} of 90 days checked" in svg.css_first("desc").text()
    bars = svg.css("rect.bar")
    assert len(bars) == 90
    assert sum("no-data" in b.attributes["class"] for b in bars) == 90 - len(days)
    today = [o for at, o, _ in times if at.date() == now_utc().date()]
    if today:  # unless the test runs in the first ten minutes of a UTC day
        share = 100 * sum(o is Outcome.UP for o in today) / len(today)
        assert uptime_band(share) in bars[-1].attributes["class"]
        assert f"uptime {share:.1f} %" in bars[-1].css_first("title").text()
    assert "up-high" in bars[-11].attributes["class"]  # the success ten days ago
    assert svg.css_first("path.latency-line") is not None
    assert len(section.css("details.chart-data tbody tr")) == len(days)
    # The only script element is the inert schema.org data block; the chart needs no code.
    scripts = HTMLParser(html).css("script")
    assert [s.attributes.get("type") for s in scripts] == ["application/ld+json"]
    assert "style=" not in section.html


def test_page_and_api_show_stale_when_the_last_success_is_older_than_24_hours(store, serve):
    (entry_id,) = make_entries(store, 1)
    record(store, entry_id, Outcome.UP, hours_ago(23))
    with store.session() as session:  # the scheduler has not run since the success aged
        entry = session.get(Entry, entry_id)
        entry.last_success_at = entry.last_check_at = hours_ago(25)
    with serve(create_app(loop_settings(store), store)) as served:
        api = httpx.get(f"{served.url}/api/v1/entries/test-0").json()
        checks = httpx.get(f"{served.url}/api/v1/entries/test-0/checks").json()
        page = HTMLParser(httpx.get(f"{served.url}/entry/test-0").text)
    assert api["state"] == checks["state"] == "STALE"
    state = page.css_first('section#verification [data-testid="effective-state"]')
    assert state.text() == "STALE"
    assert "no successful check in the last 24 hours" in state.parent.text()


def test_chart_bands_text_and_escaping():
    days = [DayStat(now_utc().date() - timedelta(days=2 - i), c, d, s, lat)
            for i, (c, d, s, lat) in enumerate([(0, 0, 0, None), (4, 4, 4, 120.0),
                                                 (4, 4, 3, 80.0)])]
    assert [uptime_band(d.uptime) for d in days] == ["no-data", "up-high", "up-low"]
    assert uptime_band(96.0) == "up-mid"
    assert "2 of 3 days checked, 87.5 % overall" in describe(days)
    assert "between 80 and 120 ms" in describe(days)
    svg = uptime_chart(days)
    assert svg.count("<rect") == 3
    path = HTMLParser(svg).css_first("path.latency-line").attributes["d"]
    assert path.count("M") == 1 and path.count("L") == 1  # no line through the empty day
    assert "&" not in svg.replace("&amp;", "")
    assert describe([]) == "No day to show."
