"""``eurodex backup FILE`` and ``eurodex restore FILE``: the whole register in one file.

The database is the one ``EURODEX_DATABASE_URL`` names (SQLite or PostgreSQL); see
``store.backup`` for how each is copied and why neither leaves half a file or half a
database behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from eurodex.settings import Settings
from eurodex.store.backup import BackupError, backup, check_backup, restore

console = Console()


def _where(url: str) -> str:
    """The database, named for the operator without its password."""
    return make_url(url).render_as_string(hide_password=True)


def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it already "
                                        "exists.")] = False,
) -> None:
    """Back up the register's database to FILE while it keeps running."""
    # A backup named like an earlier one would silently destroy that one, perhaps the only
    # good copy: replacing a file takes a deliberate --force.
    if file.exists() and not force:
        console.print(f"[red]Not backed up:[/red] {file} already exists. Name another file, "
                      "or pass --force to replace it.", soft_wrap=True)
        raise typer.Exit(2)
    url = Settings.from_env().database_url
    try:
        backup(url, file)
    except BackupError as exc:
        console.print(f"[red]Backup failed:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"Backed up {_where(url)} to {file} ({file.stat().st_size:,} bytes).")


def restore_command(
    file: Annotated[Path, typer.Argument(help="A file written by `eurodex backup`.",
                                         exists=True, dir_okay=False)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before replacing the "
                                      "database.")] = False,
) -> None:
    """Replace the register's database with the backup in FILE."""
    url = Settings.from_env().database_url
    try:
        check_backup(url, file)
        if not yes:
            typer.confirm(f"Replace everything in {_where(url)} with {file}?", abort=True)
        restore(url, file)
    except BackupError as exc:
        reason = str(exc).rstrip(".")
        console.print(f"[red]Restore failed:[/red] {reason}. The database was left as it was.")
        raise typer.Exit(2) from exc
    console.print(f"Restored {_where(url)} from {file}.")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
