"""What a harvester yields: candidates with per-field provenance, and the errors it reports.

A harvester reads one source and yields records; it never writes the store and never scores.
A record it cannot read becomes a :class:`RecordError` naming the source and the reason, and
the harvest goes on with the next record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eurodex.model import Kind, ProvenanceMethod


class HarvestError(Exception):
    """A whole source could not be read (missing folder, unreachable portal)."""


@dataclass(frozen=True)
class RecordError:
    """One record that was skipped, and why; reported, never fatal to the harvest."""

    source: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.record}: {self.reason}"


@dataclass
class FieldValue:
    """A value and how it was obtained (harvested as-is, extracted from a document, inferred)."""

    value: object
    method: ProvenanceMethod = ProvenanceMethod.HARVESTED


@dataclass
class InstitutionRecord:
    key: str
    record_url: str | None
    fields: dict[str, FieldValue]


@dataclass
class SpecDocument:
    """An API specification the harvest can read offline, and the URL it is published at."""

    path: Path
    published_at: str | None


@dataclass
class DistributionRecord:
    """One distribution of a dataset (a file or a service), as its catalogue describes it."""

    url: str
    format: str | None = None
    media_type: str | None = None
    byte_size: int | None = None
    title: str | None = None
    licence: str | None = None


@dataclass
class Candidate:
    """One API or dataset as a source describes it, before proof, admission and scoring."""

    record_id: str
    record_url: str | None
    kind: Kind
    fields: dict[str, FieldValue]
    institution_key: str | None = None
    spec: SpecDocument | None = None
    extras: dict[str, object] = field(default_factory=dict)
    distributions: list[DistributionRecord] = field(default_factory=list)
    # The source's id of the record that replaces this one, when the source says so.
    replaced_by: str | None = None
    # The publisher, for sources that describe it inside each record (CKAN, DCAT, udata):
    # upserted just before the candidate, so a streamed catalogue is read once.
    institution: InstitutionRecord | None = None

    def value(self, name: str) -> object:
        found = self.fields.get(name)
        return None if found is None else found.value
