"""The harvest sources file: which catalogues to harvest, how, and what each one is.

Read from the YAML shipped in the package (``eurodex/sources.yaml``) or the operator's file
(``EURODEX_SOURCES_FILE``). A source is harvested from its shipped snapshot unless a live
harvest is asked for, in which case its ``api`` endpoint is paged through the guarded
client (``harvest.fetching``), so harvested URLs obey the same address guard as checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from eurodex.harvest.apigouvfr import ApiGouvFrHarvester, shipped_snapshot
from eurodex.harvest.ckan import CkanHarvester
from eurodex.harvest.dataportals import DataPortalsHarvester
from eurodex.harvest.dcat import DcatHarvester
from eurodex.harvest.fetching import PageFetcher
from eurodex.harvest.nllegacy import NlLegacyHarvester
from eurodex.harvest.nlregister import NlApiRegisterHarvester
from eurodex.harvest.openapi_list import OpenApiListHarvester
from eurodex.harvest.records import HarvestError
from eurodex.harvest.register_export import RegisterExportHarvester
from eurodex.harvest.udata import UdataHarvester

SCHEDULES = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
LIVE_TYPES = {"udata", "ckan", "dcat-ap", "nl-api-register"}


class SourcesFileError(ValueError):
    """The sources file is missing, not YAML, or describes a source wrongly."""


@dataclass(frozen=True)
class SourceConfig:
    slug: str
    name: str
    type: str
    url: str | None = None
    api: str | None = None
    snapshot: str | None = None
    trusted: bool = False
    schedule: str = "daily"
    enabled: bool = True
    country: str | None = None
    languages: tuple[str, ...] = ("en",)
    columns: dict[str, str] = field(default_factory=dict)

    def snapshot_path(self) -> Path | None:
        if not self.snapshot:
            return None
        path = Path(self.snapshot)
        if path.is_absolute():
            return path
        return Path(str(resources.files("eurodex"))) / path


def shipped_sources_file() -> Path:
    return Path(str(resources.files("eurodex") / "sources.yaml"))


def load_sources(path: str | Path | None = None) -> list[SourceConfig]:
    """Every source of the file (the shipped one when ``path`` is None), in file order."""
    file = Path(path) if path else shipped_sources_file()
    try:
        document = yaml.safe_load(file.read_text("utf-8"))
    except OSError as exc:
        raise SourcesFileError(f"{file}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourcesFileError(f"{file}: not YAML: {exc}") from exc
    items = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise SourcesFileError(f"{file}: no `sources:` list")
    configs, slugs = [], set()
    for index, item in enumerate(items):
        config = _config(file, index, item)
        if config.slug in slugs:
            raise SourcesFileError(f"{file}: source {config.slug!r} appears twice")
        slugs.add(config.slug)
        configs.append(config)
    return configs


def _config(file: Path, index: int, item: object) -> SourceConfig:
    where = f"{file}: source #{index + 1}"
    if not isinstance(item, dict):
        raise SourcesFileError(f"{where}: not a mapping")
    for key in ("slug", "name", "type"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise SourcesFileError(f"{where}: `{key}` is required")
    if item["type"] not in FACTORIES:
        raise SourcesFileError(f"{where} ({item['slug']}): unknown type {item['type']!r}; "
                               f"known: {', '.join(sorted(FACTORIES))}")
    if not item.get("snapshot") and not item.get("api"):
        raise SourcesFileError(f"{where} ({item['slug']}): give a snapshot or an api URL")
    schedule = str(item.get("schedule", "daily"))
    if schedule not in SCHEDULES:
        raise SourcesFileError(f"{where} ({item['slug']}): schedule {schedule!r} is not one "
                               f"of {', '.join(SCHEDULES)}")
    languages = item.get("languages") or ["en"]
    return SourceConfig(
        slug=item["slug"].strip(), name=item["name"].strip(), type=item["type"],
        url=item.get("url"), api=item.get("api"), snapshot=item.get("snapshot"),
        trusted=item.get("trusted") is True, schedule=schedule,
        enabled=item.get("enabled", True) is not False,
        country=(str(item["country"]).upper() if item.get("country") else None),
        languages=tuple(str(lang) for lang in languages),
        columns=dict(item.get("columns") or {}),
    )


def build_harvester(config: SourceConfig, *, live: bool = False,
                    fetcher: PageFetcher | None = None):
    """The harvester for ``config``: its snapshot, or its live endpoint when ``live``."""
    path = None if live else config.snapshot_path()
    if live and (not config.api or config.type not in LIVE_TYPES):
        raise HarvestError(f"{config.slug}: no live endpoint to harvest (type {config.type})")
    if not live and path is None:
        raise HarvestError(f"{config.slug}: no shipped snapshot; harvest it with --live")
    harvester = FACTORIES[config.type](config, path, fetcher)
    harvester.source_url = config.url or harvester.source_url
    return harvester


def _common(config: SourceConfig) -> dict:
    return {"slug": config.slug, "name": config.name, "trusted": config.trusted}


def _api_gouv_fr(config, path, fetcher):
    # The shipped folder comes with the shipped spec overrides (api-gouv-fr-overrides).
    harvester = ApiGouvFrHarvester(None if path == shipped_snapshot() else path)
    harvester.source_slug, harvester.source_name = config.slug, config.name
    harvester.trusted = config.trusted
    return harvester


FACTORIES: dict[str, Callable] = {
    "api-gouv-fr": _api_gouv_fr,
    "udata": lambda c, p, f: UdataHarvester(**_common(c), path=p, url=None if p else c.api,
                                            fetcher=f, country=c.country or "FR"),
    "ckan": lambda c, p, f: CkanHarvester(**_common(c), path=p, url=None if p else c.api,
                                          fetcher=f, country=c.country, languages=c.languages),
    "dcat-ap": lambda c, p, f: DcatHarvester(**_common(c), path=p, url=None if p else c.api,
                                             fetcher=f, country=c.country,
                                             languages=c.languages),
    "nl-api-register": lambda c, p, f: NlApiRegisterHarvester(
        **_common(c), path=p, url=None if p else c.api, fetcher=f),
    "nl-developer-overheid-legacy": lambda c, p, f: NlLegacyHarvester(**_common(c), path=p,
                                                                      url=c.url),
    "openapi-list": lambda c, p, f: OpenApiListHarvester(**_common(c), path=p,
                                                         country=c.country, url=c.url),
    "register-export": lambda c, p, f: RegisterExportHarvester(
        **_common(c), path=p, url=c.url, columns=c.columns, country=c.country),
    "dataportals-registry": lambda c, p, f: DataPortalsHarvester(**_common(c), path=p,
                                                                 url=c.url),
}
