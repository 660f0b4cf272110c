"""The ``eurodex`` command as a user runs it: a real process, a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import free_port

EURODEX = [sys.executable, "-m", "eurodex.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env["COLUMNS"] = "200"
    env["EURODEX_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return env


def test_run_sets_up_a_fresh_register_and_serves_it(tmp_path):
    """The README's run command on a fresh folder: database, snapshot, scores, web UI."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env["EURODEX_SCHEDULER"] = "0"  # `run` starts the verification loops: no test goes online
    process = subprocess.Popen(
        [*EURODEX, "run", "--port", str(port)], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if f"http://127.0.0.1:{port}" in line:
                break
        output = "".join(lines)
        assert f"serving the register at http://127.0.0.1:{port}" in output, output
        assert "170 new" in output
        for _ in range(100):
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/api/v1/entries").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # Every shipped snapshot (sources.yaml): at least 1,000 real entries, 4+ countries.
        assert body["total"] == 2230
        countries = {
            c for c in ("FR", "DE", "NL", "ES", "IT", "GB", "SE", "PL")
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/entries",
                         params={"country": c, "limit": 1}).json()["total"] > 0}
        assert countries == {"FR", "DE", "NL", "ES", "IT", "GB", "SE", "PL"}
        institutions = httpx.get(f"http://127.0.0.1:{port}/api/v1/institutions").json()
        assert sum(i["entries"] for i in institutions["institutions"]) == 2230
        assert min(i["entries"] for i in institutions["institutions"]) >= 1
        summary = httpx.get(f"http://127.0.0.1:{port}/api/v1/catalog/summary").json()
        assert institutions["total"] == summary["institutions"]  # one count everywhere
        home = httpx.get(f"http://127.0.0.1:{port}/").text
        assert "2,230" in home or ">2230<" in home
        assert f"{summary['institutions']:,}" in home
        assert (tmp_path / "eurodex.db").exists()  # the default database, in the working folder
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_harvest_then_show_an_entry(tmp_path):
    env = _env(tmp_path)
    harvested = subprocess.run([*EURODEX, "harvest", "--source", "api-gouv-fr"], env=env,
                               capture_output=True, text=True, timeout=120)
    assert harvested.returncode == 0, harvested.stderr
    assert "170 new, 0 updated, 0 unchanged, 0 failed, 60 institutions" in harvested.stdout
    shown = subprocess.run([*EURODEX, "show", "api-cvec"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "Register record · API · FR · GOVERNMENT · UNVERIFIED" in shown.stdout
    assert "Data schema (17 fields), filterable via the API (5)" in shown.stdout
    assert "Official domain only (1 of 5 proofs)" in shown.stdout
    assert "Not checked yet." in shown.stdout

    # A DNS failure has no HTTP status and no latency: the terminal says what went wrong
    # instead of printing Python's None.
    from eurodex.model import CheckResult, Outcome
    from eurodex.store import repository as repo
    from eurodex.store.db import Store

    store = Store(env["EURODEX_DATABASE_URL"])
    with store.session() as session:
        entry = repo.entry_by_slug(session, "api-cvec")
        repo.record_check(session, entry, CheckResult(
            url=entry.base_url, started_at=repo.now_utc(), method="HEAD",
            outcome=Outcome.DOWN, reason="dns", error="name not known"))
    store.dispose()
    shown = subprocess.run([*EURODEX, "show", "api-cvec"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert "UTC: down (the host name does not resolve)" in " ".join(shown.stdout.split())
    assert "None" not in shown.stdout


def test_show_an_unknown_entry_says_so(tmp_path):
    result = subprocess.run([*EURODEX, "show", "nope"], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "No entry 'nope'" in result.stdout


def test_harvest_of_a_missing_folder_fails_clearly(tmp_path):
    result = subprocess.run([*EURODEX, "harvest", "--path", str(tmp_path / "missing")],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not an api.gouv.fr catalogue folder" in result.stdout


def test_sources_lists_each_source_with_its_last_harvest_in_80_columns(tmp_path):
    env = {**_env(tmp_path), "COLUMNS": "80"}
    harvested = subprocess.run([*EURODEX, "harvest", "--source", "nl-developer-overheid-legacy"],
                               env=env, capture_output=True, text=True, timeout=120)
    assert harvested.returncode == 0, harvested.stderr
    listed = subprocess.run([*EURODEX, "sources"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    # Folded, never cut: every word of the harvested source's result is there in full (a
    # cell's lines sit beside the other columns' lines, so they are read line by line).
    lines = listed.stdout.splitlines()
    (first,) = [i for i, line in enumerate(lines) if "ok: 5 new, 0" in line]
    cell = " ".join(line[-20:].strip() for line in lines[first:first + 4])
    assert cell == "ok: 5 new, 0 updated, 0 unchanged, 0 failed"
    assert "api-gouv-fr" in listed.stdout and "never" in listed.stdout  # not harvested yet
    assert "…" not in listed.stdout
