"""``eurodex sources`` and harvesting the configured sources, with Rich progress bars."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from eurodex import pipeline
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.records import HarvestError
from eurodex.harvest.sources import SourceConfig, SourcesFileError, build_harvester, load_sources
from eurodex.proof.curation import CurationError
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.store.tables import HarvestRun, Source
from eurodex.verify.round import check_settings

console = Console()


def configured_sources(settings: Settings) -> list[SourceConfig]:
    try:
        return load_sources(settings.sources_file)
    except SourcesFileError as exc:
        console.print(f"[red]Sources file:[/red] {exc}")
        raise typer.Exit(2) from exc


def pick_sources(configs: list[SourceConfig], slugs: Sequence[str] | None) -> list[SourceConfig]:
    """The named sources (enabled or not), or every enabled one.

    A disabled source named on purpose is harvested, but with a warning first: it was
    switched off in the sources file for a reason, and naming it by mistake (or forgetting
    that it is off) should not go unnoticed.
    """
    if not slugs:
        return [c for c in configs if c.enabled]
    known = {c.slug: c for c in configs}
    unknown = [s for s in slugs if s not in known]
    if unknown:
        console.print(f"[red]No source {', '.join(unknown)}.[/red] Known: "
                      f"{', '.join(known)} (see `eurodex sources`).")
        raise typer.Exit(2)
    picked = [known[s] for s in slugs]
    for config in picked:
        if not config.enabled:
            console.print(f"[yellow]Warning:[/yellow] {config.slug} is disabled in the sources "
                          "file (enabled: false); harvesting it only because it was named.",
                          soft_wrap=True)
    return picked


def harvest_sources(store: Store, settings: Settings, configs: Sequence[SourceConfig], *,
                    live: bool = False) -> list[pipeline.HarvestReport]:
    """Harvest each source in turn (snapshot, or live endpoint), one progress bar each."""
    try:
        curation = pipeline.current_curation()
    except CurationError as exc:  # say which file and line, not a traceback
        console.print(f"[red]Not harvested: the curation file is refused:[/red] {exc}")
        raise typer.Exit(2) from exc
    reports = []
    fetcher = PageFetcher(check_settings(settings)) if live else None
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            for config in configs:
                try:
                    harvester = build_harvester(config, live=live, fetcher=fetcher)
                except HarvestError as exc:
                    console.print(f"[red]{config.slug}: not harvested:[/red] {exc}")
                    continue
                task = progress.add_task(f"Harvesting {config.name}", total=None)
                report = pipeline.harvest(store, harvester, curation=curation,
                                          progress=lambda n, t=task: progress.advance(t, n))
                progress.update(task, total=progress.tasks[task].completed)
                reports.append(report)
                _print_report(report)
    finally:
        if fetcher is not None:
            fetcher.close()
    return reports


def _print_report(report: pipeline.HarvestReport) -> None:
    console.print(
        f"Harvested [bold]{report.source}[/bold]: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.failed} failed, "
        f"{report.institutions} institutions"
        + (f", {len(report.retired)} retired" if report.retired else "") + ".")
    if report.aborted:
        console.print(f"  [red]stopped early[/red] (nothing deleted): {report.aborted}")
    for failure in report.failures[:20]:
        console.print(f"  [yellow]skipped[/yellow] {failure}")
    if len(report.failures) > 20:
        console.print(f"  ... and {len(report.failures) - 20} more (see `eurodex sources`)")


def sources_command(verbose: bool = False) -> None:
    """List the configured sources with the result of their last harvest."""
    settings = Settings.from_env()
    configs = configured_sources(settings)
    store = Store(settings.database_url)
    store.migrate()
    # Four columns, so that an 80-column terminal still shows every word (folded, not cut).
    table = Table("source", "how", "last harvest", "result", box=box.SIMPLE_HEAD)
    for column in table.columns:
        column.overflow = "fold"
    with store.session() as session:
        for config in configs:
            run = session.scalar(
                select(HarvestRun).join(Source, Source.id == HarvestRun.source_id)
                .where(Source.slug == config.slug)
                .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc()).limit(1))
            where = "snapshot" if config.snapshot else "live"
            when = f"{run.started_at:%Y-%m-%d %H:%M} UTC" if run else "never"
            result = (f"{run.status}: {run.new} new, {run.updated} updated, {run.unchanged} "
                      f"unchanged, {run.failed} failed" if run else "")
            how = " · ".join((config.type, "trusted" if config.trusted else "not trusted",
                              config.schedule, where,
                              *(() if config.enabled else ("disabled",))))
            table.add_row(f"{config.slug}\n{config.name}", how, when, result)
            if verbose and run and run.failures:
                for failure in run.failures[:10]:
                    table.add_row("", "", "",
                                  f"{failure.get('record')}: {failure.get('reason')}")
    console.print(table)
