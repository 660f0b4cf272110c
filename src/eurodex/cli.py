"""The ``eurodex`` command: run the register, harvest, verify, score, serve, show an entry."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from eurodex import cli_backup, cli_publish, cli_sources, cli_worker, pipeline
from eurodex.cli_review import curator_app, review_app
from eurodex.harvest.apigouvfr import ApiGouvFrHarvester
from eurodex.harvest.records import HarvestError
from eurodex.proof.curation import CurationError
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.db import Store
from eurodex.store.tables import Entry

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
        curation = pipeline.current_curation()
    except (HarvestError, CurationError) as exc:
        console.print(f"[red]Harvest failed:[/red] {exc}")
        raise typer.Exit(2) from exc
    total = len(list(harvester.folder.glob("api/*.md")))
    with _progress() as progress:
        task = progress.add_task(f"Harvesting {harvester.source_name}", total=total)
        report = pipeline.harvest(store, harvester, curation=curation,
                                  progress=lambda n: progress.advance(task, n))
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
    settings = Settings.from_env(scheduler_default=True)
    store = _store(settings)
    # Every enabled source that ships a snapshot: the register runs offline.
    configs = [c for c in cli_sources.configured_sources(settings) if c.enabled and c.snapshot]
    cli_sources.harvest_sources(store, settings, configs)
    scored = pipeline.score(store)
    console.print(f"Scored {scored} entries.")
    _serve(settings, store, host, port)


@app.command()
def harvest(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="A source's slug (repeatable); every enabled one by "
                     "default. `eurodex sources` lists them."),
    ] = None,
    live: Annotated[bool, typer.Option(help="Page through the live portals, not the "
                                       "shipped snapshots.")] = False,
    path: Annotated[
        Path | None,
        typer.Option(help="An api.gouv.fr catalogue folder to harvest instead."),
    ] = None,
    verbose: bool = False,
) -> None:
    """Harvest the configured sources (or an api.gouv.fr folder), then score what changed."""
    _setup_logging(verbose)
    settings = Settings.from_env()
    store = _store(settings)
    if path is not None:
        report = _harvest_snapshot(store, path)
        pipeline.score(store, report.entry_ids)
        return
    configs = cli_sources.pick_sources(cli_sources.configured_sources(settings), source)
    reports = cli_sources.harvest_sources(store, settings, configs, live=live)
    pipeline.score(store, [i for r in reports for i in r.entry_ids])


app.command("sources")(cli_sources.sources_command)
app.command("export")(cli_publish.export_command)


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
    due: Annotated[bool, typer.Option(
        "--due", help="Run what the rolling loops have due now: full verification, then the "
        "uptime probe.")] = False,
    retention: Annotated[bool, typer.Option(
        "--retention", help="Delete raw checks older than 90 days (hourly roll-ups stay).")
    ] = False,
    concurrency: int = 32,
    verbose: bool = False,
) -> None:
    """Check entries once (HEAD, then GET when needed) and update their states and scores."""
    from eurodex.verify.round import verify_entries

    _setup_logging(verbose)
    chosen = [name for name, given in (("SLUG", bool(slugs)), ("--all", all_), ("--due", due))
              if given]
    if len(chosen) > 1:  # one of them would be ignored without a word
        console.print(f"Choose one of SLUG..., --all and --due, not {' and '.join(chosen)}.")
        raise typer.Exit(2)
    settings = Settings.from_env()
    store = _store(settings)
    if retention:
        from eurodex.verify.retention import delete_old_checks

        console.print(f"Deleted {delete_old_checks(store)} raw checks older than 90 days.")
        if not (due or all_ or slugs):
            return
    if due:
        _verify_due(store, settings, concurrency)
        return
    with store.session() as session:
        if all_:
            ids = repo.all_entry_ids(session)
        elif slugs:
            ids = []
            for slug in slugs:
                entry = repo.entry_by_slug(session, slug)
                if entry is None:
                    _no_such_entry(session, slug)
                ids.append(entry.id)
        else:
            console.print("Name entries to check, or pass --all, --due or --retention.")
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


def _no_such_entry(session: Session, slug: str) -> NoReturn:
    """Say that ``slug`` is unknown, and exit 2.

    The words are ``eurodex show``'s for the same mistake; harvesting is suggested only when
    the register holds no entry at all, since in a full register the slug is simply wrong.
    """
    if session.scalar(select(Entry.id).limit(1)) is None:
        console.print(f"[red]No entry {slug!r}:[/red] this register is empty; run "
                      "`eurodex harvest` first.")
    else:
        console.print(f"[red]No entry {slug!r} in this register.[/red]")
    raise typer.Exit(2)


def _verify_due(store: Store, settings: Settings, concurrency: int) -> None:
    """One round of the rolling loops, as the web process runs them every tick."""
    from eurodex.verify.cadence import Loop
    from eurodex.verify.scheduler import mark_stale_now, scores_behind_now, verify_due

    stale = mark_stale_now(store)
    behind = scores_behind_now(store)  # checked by a round that was stopped before scoring

    async def both_loops():
        reports = []
        with _progress() as progress:
            for loop, label in ((Loop.FULL, "Full verification"), (Loop.PROBE, "Uptime probe")):
                task = progress.add_task(label, total=None)
                reports.append(await verify_due(
                    store, settings, loop, concurrency=concurrency,
                    on_selected=lambda n, task=task: progress.update(task, total=n),
                    progress=lambda n, task=task: progress.advance(task, n)))
        return reports

    reports = asyncio.run(both_loops())
    pipeline.score(store, sorted(set(stale).union(behind, *(r.entry_ids for r in reports))))
    if stale:
        console.print(f"{len(stale)} entries turned STALE (no success in 24 hours).")
    for report in reports:
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(report.outcomes.items())) or "none"
        console.print(f"{report.loop} loop: {report.due} due, {report.checked} checked "
                      f"({outcomes}), {len(report.skipped)} with nothing to probe, "
                      f"{report.taken} already done elsewhere, {len(report.failed)} failed.")


def _serve(settings: Settings, store: Store, host: str, port: int) -> None:
    import uvicorn

    from eurodex.web.app import create_app

    url = f"http://{host}:{port}"
    console.print(f"eurodex is serving the register at [bold]{url}[/bold] (Ctrl+C stops it)")
    if settings.scheduler:
        console.print("Verification loops on: uptime probe every 15 min, full verification "
                      "every 6 h (EURODEX_SCHEDULER=0 turns them off).")
    uvicorn.run(create_app(settings, store, listening_on=host), host=host, port=port,
                log_level="warning")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = PORT,
    verbose: bool = False,
) -> None:
    """Serve the register from the existing database."""
    _setup_logging(verbose)
    settings = Settings.from_env(scheduler_default=True)
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
                        repo.current_state(entry).value) if s)
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
            # Only what the check measured: a refused connection has no status, a DNS
            # failure no latency.
            from eurodex.web.verification import REASON_WORDS

            parts = [v.last_check_words]
            if c.reason:
                parts[0] += f" ({REASON_WORDS.get(c.reason, c.reason)})"
            if c.http_status is not None:
                parts.append(f"HTTP {c.http_status}")
            if c.latency_ms is not None:
                parts.append(f"{c.latency_ms} ms")
            console.print(f"\nLast check {c.started_at:%Y-%m-%d %H:%M} UTC: {', '.join(parts)}")
        else:
            console.print("\nNot checked yet.")
        if entry.base_url:
            console.print(f"Base URL: {entry.base_url}")


app.add_typer(curator_app, name="curator")
app.add_typer(review_app, name="review")
cli_backup.register(app)  # backup FILE, restore FILE
cli_worker.register(app)  # worker: cluster mode's job queue

if __name__ == "__main__":
    app()
