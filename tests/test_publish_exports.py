"""Bulk exports over HTTP, and ``eurodex export DIR`` snapshots with their changelog."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from eurodex.model import CheckResult, Outcome, Status
from eurodex.publish.exports import CSV_COLUMNS
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.tables import Entry
from eurodex.web.app import create_app

EURODEX = [sys.executable, "-m", "eurodex.cli"]


def _slugs(store, status: Status) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(Entry.slug).where(Entry.status == status.value)))


def test_json_and_csv_exports_hold_every_approved_entry(published_store, serve):
    with published_store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        entry.summary = "=HYPERLINK(\"http://evil.test\")"  # harvested text, hostile
    approved = _slugs(published_store, Status.APPROVED)
    with serve(create_app(Settings(database_url=published_store.url), published_store)) as s:
        document = httpx.get(s.url + "/api/v1/export/entries.json", timeout=30)
        table = httpx.get(s.url + "/api/v1/export/entries.csv", timeout=30)

    assert "content-length" not in document.headers  # streamed
    body = document.json()
    assert body["count"] == len(body["entries"]) == len(approved)
    assert {e["slug"] for e in body["entries"]} == approved
    cvec = next(e for e in body["entries"] if e["slug"] == "api-cvec")
    assert cvec["page_url"] == s.url + "/entry/api-cvec"
    assert cvec["institution"]["slug"] == "cnous" and cvec["state"] == "UNVERIFIED"
    assert cvec["score"]["tier"] in ("excellent", "good", "fair", "poor")

    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert {r["slug"] for r in rows} == approved
    cvec_row = next(r for r in rows if r["slug"] == "api-cvec")
    assert cvec_row["summary"].startswith("'=HYPERLINK")  # never a live formula
    assert cvec_row["page_url"] == s.url + "/entry/api-cvec"


def _export(folder: Path, db_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=db_url, COLUMNS="200")
    done = subprocess.run([*EURODEX, "export", str(folder), "--base-url",
                           "https://register.test"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_export_writes_dated_snapshots_and_a_changelog_against_the_last(published_store,
                                                                        tmp_path):
    folder = tmp_path / "snapshots"
    first = _export(folder, published_store.url)
    assert "First snapshot in this folder" in first

    approved = sorted(_slugs(published_store, Status.APPROVED))
    quarantined = sorted(_slugs(published_store, Status.QUARANTINED))
    withdrawn, newcomer = approved[0], quarantined[0]
    with published_store.session() as session:
        repo.entry_by_slug(session, withdrawn).status = Status.REJECTED.value
        repo.entry_by_slug(session, newcomer).status = Status.APPROVED.value
        cvec = repo.entry_by_slug(session, "api-cvec")
        repo.record_check(session, cvec, CheckResult(
            url="https://cvec-ctrl.etudiant.gouv.fr", started_at=repo.now_utc(),
            method="HEAD", outcome=Outcome.UP, http_status=200, latency_ms=90))
    second = _export(folder, published_store.url)
    assert "1 added, 1 removed, 1 state changes" in second

    snapshots = sorted(folder.glob("entries-*.json"))
    assert len(snapshots) == 2 and len(sorted(folder.glob("entries-*.csv"))) == 2
    assert not list(folder.glob("*.partial"))
    latest = json.loads(snapshots[-1].read_text())
    assert latest["count"] == len(approved)  # one in, one out
    assert latest["entries"][0]["page_url"].startswith("https://register.test/entry/")
    changelogs = sorted(folder.glob("changelog-*.json"))
    log = json.loads(changelogs[-1].read_text())
    assert log["previous"] == snapshots[0].name
    assert [a["slug"] for a in log["added"]] == [newcomer]
    assert [r["slug"] for r in log["removed"]] == [withdrawn]
    assert log["state_changes"] == [{
        "slug": "api-cvec", "name": "API contrôle CVEC (contribution de vie étudiante)",
        "from": "UNVERIFIED", "to": "VERIFIED"}]
    markdown = sorted(folder.glob("changelog-*.md"))[-1].read_text()
    assert "## State changes" in markdown and "UNVERIFIED → VERIFIED" in markdown
    assert f"`{withdrawn}`" in markdown and f"`{newcomer}`" in markdown


def test_a_dataset_entry_in_the_json_api_has_its_distributions_and_coverage(
        published_store, serve):
    """The JSON entry carries what the dataset panel shows: landing page, licence, coverage
    and each distribution, as the CSV export already did."""
    from eurodex.store.distributions import distributions_for

    with published_store.session() as session:
        dataset = session.scalar(select(Entry).where(
            Entry.kind == "DATASET", Entry.status == Status.APPROVED.value,
            Entry.landing_page.is_not(None)).order_by(Entry.slug))
        stored = distributions_for(session, dataset.id)
        slug, landing = dataset.slug, dataset.landing_page
        licence_id = dataset.licence_id
    assert stored, "the shipped datasets have distributions"
    app = create_app(Settings(database_url=published_store.url), published_store)
    with serve(app) as served:
        body = httpx.get(f"{served.url}/api/v1/entries/{slug}").json()
    assert body["kind"] == "DATASET"
    assert body["landing_page"] == landing and body["licence_id"] == licence_id
    assert [d["url"] for d in body["distributions"]] == [d.url for d in stored]
    assert [d["format"] for d in body["distributions"]] == [d.format for d in stored]
