"""What a page, the JSON API and the terminal show of an entry, built once from the store.

Publishing never fetches and never scores: it reads stored facts and arranges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from eurodex.harvest.themes import EU_THEMES
from eurodex.model import PROOF_POINTS, InstitutionType, Kind, ProofResult
from eurodex.proof.prove import ProofSubject, primary_url
from eurodex.review.decisions import decisions_for
from eurodex.score.axes import PROOF_LABELS
from eurodex.store import repository as repo
from eurodex.store.tables import AuditLog, CapturedSchemaRow, Check, Entry, Score, Source
from eurodex.web.verification import VerificationView, verification_view

AXIS_LABELS = {
    "officialness": "Officialness",
    "availability": "Availability",
    "metadata_completeness": "Metadata completeness",
    "licence_clarity": "Licence clarity",
    "agent_readiness": "Agent readiness",
}
AXIS_WEIGHTS = {
    "officialness": 25, "availability": 25, "metadata_completeness": 20,
    "licence_clarity": 15, "agent_readiness": 15,
}
AUTH_LABELS = {"NONE": "No auth", "ACCOUNT": "Free account", "RESTRICTED": "Access on request",
               "API_KEY": "API key", "OAUTH2": "OAuth 2"}
SCOPE_LABELS = {
    InstitutionType.GOVERNMENT: "National", InstitutionType.AGENCY: "National",
    InstitutionType.REGION: "Regional", InstitutionType.MUNICIPALITY: "Local",
    InstitutionType.EU_INSTITUTION: "European", InstitutionType.OTHER_PUBLIC: "Public service",
}
# English short names of Europe's countries and territories, and of the one other country
# the shipped data names (ISO 3166-1 alpha-2; XK is the code in common use for Kosovo, EU
# the register's code for the European Union's bodies).
COUNTRY_NAMES = {
    "AD": "Andorra", "AL": "Albania", "AM": "Armenia", "AT": "Austria", "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina", "BE": "Belgium", "BG": "Bulgaria", "BY": "Belarus",
    "CH": "Switzerland", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark",
    "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FO": "Faroe Islands", "FR": "France",
    "GB": "United Kingdom", "GE": "Georgia", "GG": "Guernsey", "GI": "Gibraltar",
    "GR": "Greece", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IM": "Isle of Man",
    "IS": "Iceland", "IT": "Italy", "JE": "Jersey", "LI": "Liechtenstein", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MC": "Monaco", "MD": "Moldova", "ME": "Montenegro",
    "MK": "North Macedonia", "MT": "Malta", "NL": "Netherlands", "NO": "Norway",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RS": "Serbia", "RU": "Russia",
    "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "SM": "San Marino", "TR": "Türkiye",
    "UA": "Ukraine", "VA": "Vatican City", "XK": "Kosovo", "EU": "European Union",
    "AR": "Argentina",  # one owner in the portal registry's European list
}
OUTCOME_WORDS = {
    "UP": "up", "UP_AUTH": "up, requires auth", "INCONCLUSIVE": "inconclusive",
    "DOWN": "down",
}
UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7),
                  "30d": timedelta(days=30), "90d": timedelta(days=90)}


def relative_time(when: datetime | None, now: datetime) -> str:
    """``12h ago``: coarse on purpose, with the exact time shown beside it on hover."""
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


@dataclass
class AxisView:
    axis: str
    label: str
    weight: int
    score: int
    sentence: str


@dataclass
class ProofView:
    name: str
    label: str
    held: bool
    points: int
    checked: str
    url: str | None
    sentence: str
    checked_at: datetime
    max_points: int = 0


@dataclass
class ProvenanceView:
    field: str
    method: str
    source: str
    record_url: str | None
    recorded_at: datetime


@dataclass
class EntryView:
    entry: Entry
    institution_type: str | None
    scope: str | None
    country_name: str | None
    auth_label: str | None
    topics: list[tuple[str, str]]
    score: Score | None
    axes: list[AxisView]
    proofs: list[ProofView]
    primary_url: str | None
    schema: CapturedSchemaRow | None
    last_check: Check | None
    uptime: dict[str, float | None]
    provenance: list[ProvenanceView]
    curl_example: str | None
    source_name: str
    now: datetime
    chips: list[str] = field(default_factory=list)
    decisions: list[AuditLog] = field(default_factory=list)  # curators', oldest first
    verification: VerificationView | None = None  # the "Verification status" section

    @property
    def last_check_words(self) -> str | None:
        check = self.last_check
        if check is None:
            return None
        return OUTCOME_WORDS.get(check.outcome, check.outcome.lower())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _proof_view(p: ProofResult) -> ProofView:
    return ProofView(p.name.value, _capitalised(PROOF_LABELS[p.name]), p.held, p.points,
                     p.checked, p.url, p.sentence, p.checked_at, PROOF_POINTS[p.name])


def curl_example(entry: Entry, schema: CapturedSchemaRow | None) -> str | None:
    """A first request a reader can paste, using the captured filterable fields."""
    if not entry.base_url:
        return None
    base = entry.base_url.rstrip("/")
    if schema and schema.filterable_count:
        filters = [f["name"] for f in schema.fields if f["owner"] == "filterable"][:2]
        query = "&".join(f"{name}=..." for name in filters)
        return f'curl -sS "{base}?{query}"' if query else f'curl -sS "{base}"'
    return f'curl -sS "{base}"'


def _provenance(session: Session, entry: Entry) -> list[ProvenanceView]:
    names: dict[int, str] = {}
    rows = []
    for p in repo.provenance_for(session, "entry", entry.id):
        if p.source_id not in names:
            names[p.source_id] = session.get(Source, p.source_id).name
        rows.append(ProvenanceView(p.field, p.method, names[p.source_id], p.record_url,
                                   p.recorded_at))
    return rows


def entry_view(session: Session, entry: Entry, now: datetime | None = None) -> EntryView:
    now = now or repo.now_utc()
    inst = entry.institution
    inst_type = InstitutionType(inst.type) if inst else None
    score = repo.score_for(session, entry.id)
    axes = []
    if score is not None:
        for axis, label in AXIS_LABELS.items():
            axes.append(AxisView(axis, label, AXIS_WEIGHTS[axis], getattr(score, axis),
                                 score.sentences.get(axis, "")))
    schema = repo.schema_for(session, entry.id)
    subject = ProofSubject(kind=Kind(entry.kind), base_url=entry.base_url, spec_url=entry.spec_url,
                           homepage_url=entry.homepage_url)
    scope = SCOPE_LABELS.get(inst_type) if inst_type else None
    country_name = COUNTRY_NAMES.get(entry.country or "", entry.country)
    auth_label = AUTH_LABELS.get(entry.auth_type or "", entry.auth_type)
    chips = [c for c in (entry.kind, scope, country_name, auth_label) if c]
    return EntryView(
        entry=entry,
        institution_type=inst.type if inst else None,
        scope=scope,
        country_name=country_name,
        auth_label=auth_label,
        topics=[(code, EU_THEMES.get(code, code)) for code in entry.topics or []],
        score=score,
        axes=axes,
        proofs=[_proof_view(p) for p in repo.proofs_for(session, entry.id)],
        primary_url=primary_url(subject),
        schema=schema,
        last_check=repo.latest_check(session, entry.id),
        uptime={k: repo.uptime(session, entry.id, w) for k, w in UPTIME_WINDOWS.items()},
        provenance=_provenance(session, entry),
        curl_example=curl_example(entry, schema),
        source_name=entry.source.name,
        now=now,
        chips=chips,
        decisions=list(decisions_for(session, entry.id)),
        verification=verification_view(session, entry, now),
    )
