"""``eurodex curator add NAME`` and ``eurodex review list | approve SLUG | reject SLUG``.

Decisions made here are audited like those made on ``/review``; the actor is ``--by`` (by
default ``cli:`` and the operating-system user).
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eurodex.review.curators import CuratorError, add_curator
from eurodex.review.decisions import DecisionError, decide, review_queue
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store

console = Console()
curator_app = typer.Typer(help="Manage curators (who may decide on quarantined entries).",
                          no_args_is_help=True)
review_app = typer.Typer(help="The review queue: list, approve or reject quarantined entries.",
                         no_args_is_help=True)


def _store() -> Store:
    store = Store(Settings.from_env().database_url)
    store.migrate()
    return store


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container: still say it was the CLI
        return "cli"


@curator_app.command("add")
def curator_add(name: str) -> None:
    """Create a curator and print their token, once: only a hash of it is stored."""
    store = _store()
    try:
        with store.session() as session:
            token = add_curator(session, name)
    except CuratorError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Curator [bold]{name}[/bold] added. Their token (shown only now):")
    print(token)


@review_app.command("list")
def review_list() -> None:
    """Entries waiting for review, oldest first."""
    store = _store()
    with store.session() as session:
        rows = review_queue(session)
        if not rows:
            console.print("Nothing is waiting for review.")
            return
        table = Table("slug", "name", "source", "officialness", "why")
        for entry in rows:
            points = sum(p.points for p in repo.proofs_for(session, entry.id))
            table.add_row(entry.slug, entry.name, entry.source.name, str(min(100, points)),
                          entry.status_reason)
        console.print(table)


def _decide(slug: str, action: str, reason: str | None, by: str | None) -> None:
    store = _store()
    try:
        with store.session() as session:
            decision = decide(session, slug, action, by or _default_actor(), reason)
    except DecisionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"{decision.slug}: {decision.status} ({decision.reason})")


By = Annotated[str | None, typer.Option("--by", help="Who decides (default: cli:<user>).")]


@review_app.command("approve")
def review_approve(
    slug: str,
    reason: Annotated[str | None, typer.Option(help="Why it is approved.")] = None,
    by: By = None,
) -> None:
    """Approve a quarantined entry."""
    _decide(slug, "approve", reason, by)


@review_app.command("reject")
def review_reject(
    slug: str,
    reason: Annotated[str, typer.Option(help="Why it is rejected (required).")],
    by: By = None,
) -> None:
    """Reject a quarantined entry, with a reason."""
    _decide(slug, "reject", reason, by)
