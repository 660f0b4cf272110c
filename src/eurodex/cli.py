"""The ``eurodex`` command: run the register, harvest, verify, score, serve, show an entry."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eurodex import pipeline
from eurodex.harvest.apigouvfr import ApiGouvFrHarvester
from eurodex.harvest.records import HarvestError
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store

app = typer.Typer(
    help="eurodex: a continuously verified register of official European public-sector APIs "
    "and datasets.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # tracebacks must never print database URLs or tokens
)
console = Console()

HOST = "127.0.0.1"
PORT = 8000


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "sqlalchemy", "aiohttp", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _store(settings: Settings) -> Store:
    store = Store(settings.database_url)
    store.migrate()
    return store


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _harvest_snapshot(store: Store, folder: Path | None) -> pipeline.HarvestReport:
    try:
        harvester = ApiGouvFrHarvester(folder)
    except HarvestError as exc:
        console.print(f"[red]Harvest failed:[/red] {exc}")
        raise typer.Exit(2) from exc
    total = len(list(harvester.folder.glob("api/*.md")))
    with _progress() as progress:
        task = progress.add_task(f"Harvesting {harvester.source_name}", total=total)
        report = pipeline.harvest(store, harvester, progress=lambda n: progress.advance(task, n))
    console.print(
        f"Harvested [bold]{report.source}[/bold]: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.failed} failed, "
        f"{report.institutions} institutions."
    )
    for failure in report.failures:
        console.print(f"  [yellow]skipped[/yellow] {failure}")
    return report


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = PORT,
    verbose: bool = False,
) -> None:
    """Set up everything and serve the register: database, shipped snapshot, scores, web UI."""
    _setup_logging(verbose)
    settings = Settings.from_env()
    store = _store(settings)
    report = _harvest_snapshot(store, None)
    scored = pipeline.score(store)
    console.print(f"Scored {scored} entries.")
    del report
    _serve(settings, store, host, port)


@app.command()
def harvest(
    path: Annotated[
        Path | None,
        typer.Option(help="An api.gouv.fr catalogue folder; the shipped snapshot by default."),
    ] = None,
    verbose: bool = False,
) -> None:
    """Harvest the api.gouv.fr catalogue, then score what changed."""
    _setup_logging(verbose)
    store = _store(Settings.from_env())
    report = _harvest_snapshot(store, path)
    pipeline.score(store, report.entry_ids)


@app.command()
def score(verbose: bool = False) -> None:
    """Recompute every entry's quality score."""
    _setup_logging(verbose)
    count = pipeline.score(_store(Settings.from_env()))
    console.print(f"Scored {count} entries.")


@app.command()
def verify(
    slugs: Annotated[list[str] | None, typer.Argument(help="Entries to check.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Check every entry.")] = False,
    concurrency: int = 32,
    verbose: bool = False,
) -> None:
    """Check entries once (HEAD, then GET when needed) and update their states and scores."""
    from eurodex.verify.round import verify_entries

    _setup_logging(verbose)
    settings = Settings.from_env()
    store = _store(settings)
    with store.session() as session:
        if all_:
            ids = repo.all_entry_ids(session)
        elif slugs:
            ids = []
            for slug in slugs:
                entry = repo.entry_by_slug(session, slug)
                if entry is None:
                    console.print(f"[red]No entry {slug!r}.[/red] `eurodex show` lists none; "
                                  "run `eurodex harvest` first?")
                    raise typer.Exit(2)
                ids.append(entry.id)
        else:
            console.print("Name entries to check, or pass --all.")
            raise typer.Exit(2)
    with _progress() as progress:
        task = progress.add_task("Verifying", total=len(ids))
        report = asyncio.run(verify_entries(store, ids, settings, concurrency=concurrency,
                                            progress=lambda _r: progress.advance(task)))
    pipeline.score(store, ids)
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(report.outcomes.items())) or "none"
    console.print(f"Checked {report.checked} entries: {outcomes}.")
    if report.skipped:
        console.print(f"{len(report.skipped)} entries have no URL to check.")


def _serve(settings: Settings, store: Store, host: str, port: int) -> None:
    import uvicorn

    from eurodex.web.app import create_app

    url = f"http://{host}:{port}"
    console.print(f"eurodex is serving the register at [bold]{url}[/bold] (Ctrl+C stops it)")
    uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = PORT,
    verbose: bool = False,
) -> None:
    """Serve the register from the existing database."""
    _setup_logging(verbose)
    settings = Settings.from_env()
    _serve(settings, _store(settings), host, port)


@app.command()
def show(slug: str) -> None:
    """Show one entry in the terminal: facts, score, proofs, schema and latest check."""
    from eurodex.web.views import entry_view

    store = _store(Settings.from_env())
    with store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        if entry is None:
            console.print(f"[red]No entry {slug!r} in this register.[/red]")
            raise typer.Exit(2)
        v = entry_view(session, entry)
        strip = " · ".join(
            s for s in ("Register record", entry.kind, entry.country, v.institution_type,
                        entry.state) if s)
        console.print(f"[dim]{strip}[/dim]")
        console.print(f"[bold]{entry.name}[/bold]")
        if entry.institution:
            console.print(f"Published by {entry.institution.name}")
        console.print(" · ".join(v.chips))
        console.print(f"Admission: {entry.status} ({entry.status_reason})")
        if v.score:
            console.print(f"\nTrust score [bold]{v.score.composite}[/bold], tier {v.score.tier}")
            table = Table("axis", "score", "why")
            for a in v.axes:
                table.add_row(a.label, f"{a.score}/100", a.sentence)
            console.print(table)
        console.print("\nOfficial proof")
        for p in v.proofs:
            mark = "[green]✔[/green]" if p.held else "[red]✘[/red]"
            console.print(f"  {mark} {p.label} ({p.points}): {p.sentence}")
        if v.schema and not v.schema.error:
            console.print(f"\nData schema ({v.schema.field_count} fields), filterable via the "
                          f"API ({v.schema.filterable_count})")
            table = Table("field", "type", "owner", "description")
            for f in v.schema.fields:
                table.add_row(f["name"], f["type"], f["owner"], f["description"])
            console.print(table)
        if v.last_check:
            c = v.last_check
            console.print(f"\nLast check {c.started_at:%Y-%m-%d %H:%M} UTC: "
                          f"{v.last_check_words}, HTTP {c.http_status}, {c.latency_ms} ms")
        else:
            console.print("\nNot checked yet.")
        if entry.base_url:
            console.print(f"Base URL: {entry.base_url}")


if __name__ == "__main__":
    app()
