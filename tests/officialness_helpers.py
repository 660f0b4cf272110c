"""Helpers shared by the officialness tests: a harvester of given records, stand-in pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from eurodex.harvest.records import Candidate, FieldValue, InstitutionRecord, RecordError
from eurodex.model import Kind
from eurodex.verify.check import CheckSettings

AGENCY_HOST = "api.example-agency.gouv.fr"

CURATION_YAML = """\
institutions:
  - slug: example-agency
    name: Example Agency
    acronym: EXA
    country: FR
    type: AGENCY
    homepage: https://www.example-agency.gouv.fr
    domains: [example-agency.gouv.fr]
  - slug: dgfip
    name: Direction générale des Finances publiques
    acronym: DGFiP
    country: FR
    type: GOVERNMENT
"""


@dataclass
class ListHarvester:
    """A source whose records are given by the test, read like any harvester's."""

    source_slug: str = "test-portal"
    source_name: str = "test portal"
    source_url: str | None = "https://portal.example.org"
    trusted: bool = False
    source_format: str = "test"
    records: list[Candidate] = field(default_factory=list)
    bodies: list[InstitutionRecord] = field(default_factory=list)

    def institutions(self) -> Iterator[InstitutionRecord | RecordError]:
        yield from self.bodies

    def candidates(self) -> Iterator[Candidate | RecordError]:
        yield from self.records


def api_candidate(record_id: str, base_url: str, *, institution: str | None = "example-agency",
                  homepage: str | None = None, spec_url: str | None = None,
                  docs_url: str | None = None) -> Candidate:
    fields = {"name": FieldValue(f"API {record_id}"), "base_url": FieldValue(base_url),
              "country": FieldValue("FR")}
    for name, value in (("homepage_url", homepage), ("spec_url", spec_url),
                        ("docs_url", docs_url)):
        if value:
            fields[name] = FieldValue(value)
    return Candidate(record_id=record_id, record_url=None, kind=Kind.API, fields=fields,
                     institution_key=institution)


def agency_page(*links: tuple[str, str]) -> str:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"<!doctype html><html><body><h1>Example API</h1><ul>{anchors}</ul></body></html>"


def stand_in_settings(port: int, ca_file: str, host: str = AGENCY_HOST) -> CheckSettings:
    """Reach ``host`` at the loopback stand-in, keeping its real name (like curl --resolve)."""
    return CheckSettings(host_overrides={f"{host}:443": f"127.0.0.1:{port}"},
                         extra_ca_file=ca_file)
