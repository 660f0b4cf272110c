"""What the ``eurodex`` command says when a user gets something wrong, run as a real process.

Each test runs the command against the suite's ``store`` database (SQLite, or PostgreSQL with
EURODEX_TEST_DATABASE=postgresql): a wrong slug, a folder that cannot be written, a base URL
that makes no links, a disabled source, a backup over an existing file, and a restore of a
file that is no backup. Every one must end in a sentence, not a traceback, and never in a
prompt whose answer could not matter.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eurodex import pipeline
from eurodex.harvest.sources import build_harvester, load_sources
from eurodex.store.db import Store

from . import backends

EURODEX = [sys.executable, "-m", "eurodex.cli"]


def eurodex(url: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EURODEX_")}
    env.update(EURODEX_DATABASE_URL=url, COLUMNS="200")
    return subprocess.run([*EURODEX, *args], env=env, capture_output=True, text=True,
                          timeout=300, input=input)


def words(text: str) -> str:
    """The text with Rich's boxes and line folds reduced to single spaces."""
    return " ".join(text.replace("│", " ").split())


def _harvest(store: Store, slug: str) -> None:
    (config,) = [c for c in load_sources() if c.slug == slug]
    pipeline.harvest(store, build_harvester(config))


needs_pg_tools = pytest.mark.skipif(
    backends.POSTGRES and not all(shutil.which(t) for t in ("pg_dump", "pg_restore", "psql")),
    reason="PostgreSQL's client programs are not installed (apt-get install postgresql-client)")


# -- verify -------------------------------------------------------------------------------


def test_verify_of_an_unknown_slug_in_a_full_register_says_only_that(store: Store):
    """With entries in the register, a wrong slug is a typo: no advice to harvest."""
    _harvest(store, "nl-developer-overheid-legacy")
    result = eurodex(store.url, "verify", "nope")
    assert result.returncode == 2
    assert result.stdout.strip() == "No entry 'nope' in this register."
    shown = eurodex(store.url, "show", "nope")
    assert shown.stdout == result.stdout  # the same words as `eurodex show`


def test_verify_refuses_two_choices_of_what_to_check(store: Store):
    for args in (("--all", "--due"), ("api-cvec", "--all"), ("api-cvec", "--due")):
        result = eurodex(store.url, "verify", *args)
        assert result.returncode == 2, args
        assert "Choose one of SLUG..., --all and --due" in words(result.stdout), args


def test_verify_of_an_unknown_slug_in_an_empty_register_suggests_harvesting(store: Store):
    result = eurodex(store.url, "verify", "nope")
    assert result.returncode == 2
    assert "No entry 'nope': this register is empty; run `eurodex harvest` first." in words(
        result.stdout)


# -- export -------------------------------------------------------------------------------


@pytest.mark.parametrize("folder, reason", [
    pytest.param(Path("/proc/eurodex-export"), "No such file or directory",
                 marks=pytest.mark.skipif(not Path("/proc/self").is_dir(),
                                          reason="needs Linux's /proc")),
    pytest.param("x" * 300, "File name too long", id="name-too-long"),
])
def test_an_export_that_cannot_be_written_says_where_and_why(store: Store, tmp_path: Path,
                                                            folder, reason):
    """Any OSError (not only the three once caught) is one line, not a traceback."""
    target = folder if isinstance(folder, Path) else tmp_path / folder
    result = eurodex(store.url, "export", str(target))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"Export failed: cannot write {target}: {reason}"]


@pytest.mark.parametrize("base_url", ["not a url", "eurodex.example", "ftp://eurodex.example",
                                      "https://", "https://euro dex.example", "http://[::1",
                                      "https://reg.example/sub?x=1", "https://reg.example/#f",
                                      "https://user:pw@reg.example/", "http://reg.example:99999"])
def test_an_export_refuses_a_base_url_that_makes_no_links(store: Store, tmp_path: Path,
                                                          base_url: str):
    folder = tmp_path / "exports"
    result = eurodex(store.url, "export", str(folder), "--base-url", base_url)
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert (f"Invalid value for '--base-url': {base_url!r} is not an absolute http(s) URL "
            "with a host") in words(result.stderr)
    assert not folder.exists()  # refused before anything is written


def test_an_export_takes_an_absolute_base_url(store: Store, tmp_path: Path):
    folder = tmp_path / "exports"
    result = eurodex(store.url, "export", str(folder), "--base-url",
                     "https://eurodex.example/")
    assert result.returncode == 0, result.stdout + result.stderr
    (snapshot,) = folder.glob("entries-*.json")
    assert '"methodology": "https://eurodex.example/methodology"' in snapshot.read_text()


# -- harvest ------------------------------------------------------------------------------


def test_harvesting_a_disabled_source_by_name_warns_first(store: Store):
    assert not {c.slug: c for c in load_sources()}["nl-openapi-list"].enabled
    result = eurodex(store.url, "harvest", "--source", "nl-developer-overheid-legacy",
                     "--source", "nl-openapi-list")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    warning = ("Warning: nl-openapi-list is disabled in the sources file (enabled: false); "
               "harvesting it only because it was named.")
    assert [line for line in lines if "disabled" in line] == [warning]  # the enabled one: none
    harvested = [i for i, line in enumerate(lines) if line.startswith("Harvested")]
    assert len(harvested) == 2 and lines.index(warning) < harvested[0]


# -- backup and restore -------------------------------------------------------------------


@needs_pg_tools
def test_a_backup_refuses_to_replace_a_file_without_force(store: Store, tmp_path: Path):
    target = tmp_path / "register.backup"
    target.write_text("an earlier backup, perhaps the only good one")
    refused = eurodex(store.url, "backup", str(target))
    assert refused.returncode == 2
    assert words(refused.stdout) == (f"Not backed up: {target} already exists. Name another "
                                     "file, or pass --force to replace it.")
    assert target.read_text() == "an earlier backup, perhaps the only good one"

    forced = eurodex(store.url, "backup", str(target), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert target.read_bytes().startswith(b"PGDMP" if backends.POSTGRES else b"SQLite format 3")


def _not_a_backup(tmp_path: Path) -> Path:
    file = tmp_path / "notes.txt"
    file.write_text("not a database")
    return file


def _another_sqlite_database(tmp_path: Path) -> Path:
    file = tmp_path / "other.db"
    connection = sqlite3.connect(file)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    return file


@pytest.mark.parametrize("make_file", [_not_a_backup, _another_sqlite_database])
def test_a_restore_refuses_a_non_backup_before_asking(store: Store, tmp_path: Path, make_file):
    """Nobody is asked to agree to a restore that would be refused anyway."""
    file = make_file(tmp_path)
    refused = eurodex(store.url, "restore", str(file), input="y\n")
    assert refused.returncode == 2
    assert "Replace everything" not in refused.stdout  # no prompt
    assert words(refused.stdout).startswith(f"Restore failed: {file} is ")
    assert words(refused.stdout).endswith("The database was left as it was.")


def test_a_restore_of_a_missing_file_is_refused_before_asking(store: Store, tmp_path: Path):
    refused = eurodex(store.url, "restore", str(tmp_path / "missing.db"), input="y\n")
    assert refused.returncode == 2
    assert "Replace everything" not in refused.stdout
    assert "does not exist" in words(refused.stderr)


@needs_pg_tools
def test_a_restore_of_a_real_backup_still_asks_first(store: Store, tmp_path: Path):
    target = tmp_path / "register.backup"
    assert eurodex(store.url, "backup", str(target)).returncode == 0
    declined = eurodex(store.url, "restore", str(target), input="n\n")
    assert declined.returncode == 1  # typer's Abort
    assert "Replace everything in" in declined.stdout
    assert "Restored" not in declined.stdout
