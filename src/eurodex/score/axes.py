"""The five axes of the quality score, each a pure function of stored facts (methodology 5).

Scoring never does I/O: everything an axis needs arrives in a :class:`ScoreFacts`, so that a
number on a page can be recomputed from the facts and the methodology alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eurodex.model import AxisScore, Kind, ProofName, ProofResult, State
from eurodex.score.licences import normalise_licence

PLACEHOLDERS = frozenset(
    {"", "-", "n/a", "nan", "null", "none", "tbd", "todo", "unknown"}
)

MACHINE_READABLE_FORMATS = frozenset(
    {"csv", "json", "geojson", "xml", "parquet", "jsonld", "json-ld", "rdf", "ttl", "turtle",
     "xlsx", "ods", "shp", "gpkg", "kml", "gml", "netcdf", "api", "ndjson", "tsv", "sparql"}
)

PROOF_LABELS = {
    ProofName.DOMAIN: "official domain",
    ProofName.PORTAL_BACKLINK: "portal backlink",
    ProofName.GITHUB_ORG: "GitHub organisation",
    ProofName.RECIPROCAL_LINK: "reciprocal link",
    ProofName.POLICY_PAGE: "policy page",
}


@dataclass
class ScoreFacts:
    """Everything the score reads about one entry."""

    kind: Kind
    public_sector: bool
    proofs: list[ProofResult]
    state: State
    consecutive_failures: int
    ever_checked: bool
    uptime_30d: float | None  # percent, None when no decisive check in 30 days
    history_hours: float  # hours between the first check kept and now
    name: str | None = None
    description: str | None = None
    institution: str | None = None
    country: str | None = None
    topics: list[str] = field(default_factory=list)
    base_url: str | None = None
    docs_url: str | None = None
    spec_url: str | None = None
    homepage_url: str | None = None
    contact: str | None = None
    rate_limit: str | None = None
    auth_type: str | None = None
    licence: str | None = None
    spec_format: str | None = None  # set when the spec was parsed
    # Dataset facts.
    landing_page: str | None = None
    documentation: str | None = None
    distribution_formats: list[str] = field(default_factory=list)
    distribution_count: int = 0
    temporal_coverage: str | None = None
    spatial_coverage: str | None = None
    last_modified: str | None = None
    schema_captured: bool = False


def populated(value: object) -> bool:
    """True when ``value`` carries information: not None, empty or a placeholder."""
    if value is None:
        return False
    if isinstance(value, list | tuple | set | dict):
        return any(populated(v) for v in value)
    if isinstance(value, int | float):
        return True
    return str(value).strip().lower() not in PLACEHOLDERS


def officialness(facts: ScoreFacts) -> AxisScore:
    if not facts.public_sector:
        return AxisScore(
            "officialness", 50, "Not public sector: not subject to the proof checker."
        )
    held = [p for p in facts.proofs if p.held]
    points = min(100, sum(p.points for p in held))
    if held:
        names = ", ".join(PROOF_LABELS[p.name] for p in held)
        only = " only" if len(held) == 1 else ""
        sentence = f"{names[:1].upper()}{names[1:]}{only} ({len(held)} of 5 proofs)"
    else:
        sentence = "No proof of officialness holds (0 of 5 proofs)"
    return AxisScore("officialness", points, sentence)


def availability(facts: ScoreFacts) -> AxisScore:
    if facts.consecutive_failures > 0:
        n = facts.consecutive_failures
        score = max(0, 55 - 15 * (n - 1))
        plural = "s" if n > 1 else ""
        sentence = f"{n} consecutive failed check{plural}"
    elif facts.state is State.STALE:
        score, sentence = 60, "Stale: no successful check in the last 24 hours"
    elif facts.state is State.VERIFIED:
        score, sentence = 100, "Latest verification succeeded"
    elif not facts.ever_checked:
        return AxisScore("availability", 0, "Never checked")
    else:
        score, sentence = 0, "No decisive check yet"
    if facts.history_hours >= 24 and facts.uptime_30d is not None:
        cap = round(facts.uptime_30d)
        if cap < score:
            score = cap
            sentence += f" · capped by 30-day uptime {facts.uptime_30d:.1f}%"
    return AxisScore("availability", score, sentence)


def _api_metadata(facts: ScoreFacts) -> list[tuple[str, bool]]:
    return [
        ("name", populated(facts.name)),
        ("description", populated(facts.description) and len(facts.description.strip()) >= 30),
        ("institution", populated(facts.institution)),
        ("country", populated(facts.country)),
        ("topic tags", populated(facts.topics)),
        ("base URL", populated(facts.base_url)),
        ("docs URL", populated(facts.docs_url)),
        ("spec URL", populated(facts.spec_url)),
        ("contact", populated(facts.contact)),
        ("rate limit", populated(facts.rate_limit)),
    ]


def _dataset_metadata(facts: ScoreFacts) -> list[tuple[str, bool]]:
    return [
        ("name", populated(facts.name)),
        ("description", populated(facts.description) and len(facts.description.strip()) >= 30),
        ("institution", populated(facts.institution)),
        ("country", populated(facts.country)),
        ("topic tags", populated(facts.topics)),
        ("landing page", populated(facts.landing_page)),
        ("licence", populated(facts.licence)),
        ("distribution", facts.distribution_count > 0),
        ("distribution format", populated(facts.distribution_formats)),
        ("contact", populated(facts.contact)),
        ("temporal coverage", populated(facts.temporal_coverage)),
        ("spatial coverage", populated(facts.spatial_coverage)),
        ("last-modified date", populated(facts.last_modified)),
    ]


def metadata_completeness(facts: ScoreFacts) -> AxisScore:
    rows = _api_metadata(facts) if facts.kind is Kind.API else _dataset_metadata(facts)
    have = sum(1 for _, ok in rows if ok)
    missing = [name for name, ok in rows if not ok]
    score = round(100 * have / len(rows))
    sentence = f"{have} of {len(rows)} recommended metadata fields populated"
    if missing:
        sentence += f" (missing: {', '.join(missing)})"
    return AxisScore("metadata_completeness", score, sentence)


def licence_clarity(facts: ScoreFacts) -> AxisScore:
    if not populated(facts.licence):
        if facts.kind is Kind.API:
            return AxisScore("licence_clarity", 50, "No licence declared for this API")
        return AxisScore("licence_clarity", 0, "No licence declared for this dataset")
    licence = normalise_licence(facts.licence)
    if licence is None:
        return AxisScore(
            "licence_clarity", 25, f"Licence declared as free text: {facts.licence.strip()[:80]}"
        )
    if licence.is_open:
        return AxisScore("licence_clarity", 100, f"Open licence: {licence.title}")
    return AxisScore("licence_clarity", 60, f"Known licence, not open: {licence.title}")


def agent_readiness(facts: ScoreFacts) -> AxisScore:
    if facts.kind is Kind.API:
        rows = [
            (25, populated(facts.spec_url), "OpenAPI spec URL declared"),
            (25, populated(facts.spec_format), f"Spec format known ({facts.spec_format})"),
            (15, populated(facts.docs_url), "Docs URL present"),
            (10, populated(facts.homepage_url), "Homepage URL present"),
            (10, populated(facts.topics), "Topic tags assigned"),
            # auth_type is a code, and NONE ("no auth") is a declaration, not a placeholder.
            (15, bool(facts.auth_type) and populated(facts.rate_limit),
             "Auth type and rate limit declared"),
        ]
    else:
        machine = any(f.strip().lower() in MACHINE_READABLE_FORMATS
                      for f in facts.distribution_formats)
        rows = [
            (15, populated(facts.documentation), "Documentation present"),
            (15, facts.distribution_count > 0, "At least one distribution"),
            (10, populated(facts.landing_page), "Landing page present"),
            (10, populated(facts.topics), "Topic tags assigned"),
            (20, machine, "Machine-readable distribution format"),
            (15, facts.schema_captured, "Schema captured"),
            (15, normalise_licence(facts.licence) is not None, "Licence normalised"),
        ]
    score = sum(points for points, ok, _ in rows if ok)
    met = [label for _, ok, label in rows if ok]
    sentence = " · ".join(met) if met else "Nothing an agent can rely on is declared"
    return AxisScore("agent_readiness", score, sentence)
