"""The register's domain words, shared by every stage.

Each stage (harvest, proof, verify, schema, score, publish) speaks in these types, so that
nothing downstream needs to know how a value was stored or where it was fetched from.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime


class Kind(enum.StrEnum):
    API = "API"
    DATASET = "DATASET"


class InstitutionType(enum.StrEnum):
    GOVERNMENT = "GOVERNMENT"
    AGENCY = "AGENCY"
    REGION = "REGION"
    MUNICIPALITY = "MUNICIPALITY"
    EU_INSTITUTION = "EU_INSTITUTION"
    OTHER_PUBLIC = "OTHER_PUBLIC"


class State(enum.StrEnum):
    """Verification state of an entry (methodology section 4)."""

    UNVERIFIED = "UNVERIFIED"
    VERIFIED = "VERIFIED"
    STALE = "STALE"
    FAILING = "FAILING"


class Status(enum.StrEnum):
    """Admission status of an entry (methodology section 3)."""

    APPROVED = "APPROVED"
    QUARANTINED = "QUARANTINED"
    REJECTED = "REJECTED"
    RETIRED = "RETIRED"


class Outcome(enum.StrEnum):
    """What one check of one URL concluded (methodology section 4)."""

    UP = "UP"
    UP_AUTH = "UP_AUTH"
    INCONCLUSIVE = "INCONCLUSIVE"
    DOWN = "DOWN"

    @property
    def is_success(self) -> bool:
        return self in (Outcome.UP, Outcome.UP_AUTH)

    @property
    def is_decisive(self) -> bool:
        return self is not Outcome.INCONCLUSIVE


class ProvenanceMethod(enum.StrEnum):
    HARVESTED = "harvested"
    EXTRACTED = "extracted"
    INFERRED = "inferred"
    CURATED = "curated"


class ProofName(enum.StrEnum):
    """The five proofs of officialness, in the order the methodology lists them."""

    DOMAIN = "domain"
    PORTAL_BACKLINK = "portal_backlink"
    GITHUB_ORG = "github_org"
    RECIPROCAL_LINK = "reciprocal_link"
    POLICY_PAGE = "policy_page"


PROOF_POINTS: dict[ProofName, int] = {
    ProofName.DOMAIN: 40,
    ProofName.PORTAL_BACKLINK: 25,
    ProofName.GITHUB_ORG: 20,
    ProofName.RECIPROCAL_LINK: 10,
    ProofName.POLICY_PAGE: 5,
}


@dataclass(frozen=True)
class ProofResult:
    """One proof with its evidence: what was checked, where, when, and one sentence."""

    name: ProofName
    held: bool
    checked: str
    url: str | None
    sentence: str
    checked_at: datetime

    @property
    def points(self) -> int:
        return PROOF_POINTS[self.name] if self.held else 0


@dataclass(frozen=True)
class SchemaField:
    """One field of a captured schema; ``owner`` is "filterable" or the schema's name."""

    name: str
    type: str
    description: str
    owner: str

    @property
    def filterable(self) -> bool:
        return self.owner == "filterable"


@dataclass(frozen=True)
class ReadOperation:
    """One GET operation of a spec: the request a reader can try first, for curl examples."""

    path: str
    path_parameters: list[str] = field(default_factory=list)
    query_parameters: list[str] = field(default_factory=list)
    required_query: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CapturedSchema:
    """What schema capture found in one OpenAPI document."""

    spec_format: str  # "openapi" (2.0 documents are reported as "swagger")
    spec_version: str
    fields: list[SchemaField]
    servers: list[str] = field(default_factory=list)
    title: str | None = None
    operations: list[ReadOperation] = field(default_factory=list)

    @property
    def filterable_count(self) -> int:
        return sum(1 for f in self.fields if f.filterable)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one URL, as stored (methodology section 4)."""

    url: str
    started_at: datetime
    method: str
    outcome: Outcome
    http_status: int | None = None
    latency_ms: int | None = None
    reason: str | None = None
    error: str | None = None
    bytes_read: int = 0
    tls_expires_at: datetime | None = None
    final_url: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class AxisScore:
    """One axis of the quality score: its value 0-100 and the sentence that explains it."""

    axis: str
    score: int
    sentence: str


@dataclass(frozen=True)
class QualityScore:
    axes: list[AxisScore]
    composite: int
    composite_exact: float
    tier: str

    def axis(self, name: str) -> AxisScore:
        return next(a for a in self.axes if a.axis == name)


def sort_key(name: str) -> str:
    """The form of a name that lists sort by: case and accents folded, leading punctuation
    dropped, so "État", "etalab" and "Éducation" sort among the E's and « Portail » among the
    P's, not after Z. Other scripts keep their letters (Greek after Latin, then Cyrillic)."""
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    start = next((i for i, c in enumerate(folded) if c.isalnum()), 0)
    return folded[start:][:500]
