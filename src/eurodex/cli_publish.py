"""``eurodex export DIR``: a dated snapshot of the approved register, and what changed.

Each run writes ``entries-<UTC time>.json`` and ``.csv`` (the documents the web app serves
at ``/api/v1/export/``) and ``changelog-<UTC time>.md`` and ``.json`` against the newest
snapshot already in DIR: entries added, entries removed and state changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

from eurodex.publish.exports import write_snapshot
from eurodex.publish.links import Links
from eurodex.publish.register import approved_entries
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store

console = Console()


def _absolute_base_url(value: str) -> str:
    """Refuse a base URL that would not make links: every exported ``page_url`` starts with
    it, so anything but an absolute http(s) address with a host writes links nobody can
    follow (``not a url/entry/...``). Empty is allowed: the links are then paths."""
    if not value:
        return value
    refusal = typer.BadParameter(
        f"{value!r} is not an absolute http(s) URL with a host, and no user, query or "
        "fragment (e.g. https://eurodex.example or https://example.org/eurodex)")
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0  # .port raises when out of range
    except ValueError:  # an unbalanced IPv6 bracket, a port out of range
        raise refusal from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or not port_ok
            or parts.username is not None or "#" in value or "?" in value
            or any(c.isspace() for c in value)):
        raise refusal
    return value


def _os_problem(exc: OSError, directory: Path) -> str:
    """One line naming the path and the reason, for any failure to write the export.

    Python's own text (``[Errno 2] No such file or directory: '/proc/foo'``) reads like a
    crash; the operating system's reason beside the path reads like an answer.
    """
    if exc.strerror is None:  # raised with a sentence of ours: a snapshot already there
        return str(exc)
    path = exc.filename if exc.filename is not None else directory
    return f"cannot write {path}: {exc.strerror}"


def export_command(
    directory: Annotated[Path, typer.Argument(
        help="Folder of snapshots (created if missing); the newest one in it is compared.",
        file_okay=False)],
    base_url: Annotated[str, typer.Option(
        help="The register's public address, for the links in the export "
        "(e.g. https://eurodex.example); without it links are paths.",
        callback=_absolute_base_url)] = "",
) -> None:
    """Write a dated snapshot of the approved entries and a changelog against the last one."""
    store = Store(Settings.from_env().database_url)
    store.migrate()
    now = repo.now_utc()
    try:
        result = write_snapshot(approved_entries(store, now, with_details=False), directory,
                                Links.at(base_url), now)
    except OSError as exc:
        console.print(f"[red]Export failed:[/red] {_os_problem(exc, directory)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    changes = result.changes
    console.print(f"Wrote {result.snapshot} and {result.csv.name}: {result.total} entries.")
    if changes.previous is None:
        console.print("First snapshot in this folder: nothing to compare with.")
    else:
        console.print(f"Against {changes.previous}: {len(changes.added)} added, "
                      f"{len(changes.removed)} removed, {len(changes.state_changes)} state "
                      f"changes ({result.changelog.name}).")
