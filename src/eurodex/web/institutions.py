"""Institution pages and their JSON: who publishes what, under which domains, with what proof.

An institution is shown with its approved entries, the official domains and GitHub
organisations the register knows for it, and every proof that holds for one of its entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from eurodex.model import ProofName
from eurodex.score.axes import PROOF_LABELS
from eurodex.store import browse
from eurodex.store import repository as repo
from eurodex.store.tables import Institution
from eurodex.web.api import EntrySummary, _summary
from eurodex.web.facets import facet_label
from eurodex.web.views import COUNTRY_NAMES

api_router = APIRouter(prefix="/api/v1", tags=["institutions"])
page_router = APIRouter(include_in_schema=False)


class HeldProofOut(BaseModel):
    entry: str
    entry_name: str
    proof: str
    label: str
    sentence: str
    url: str | None
    checked_at: datetime


class InstitutionDetail(BaseModel):
    slug: str
    name: str
    acronym: str | None
    country: str
    type: str
    type_label: str | None
    homepage_url: str | None
    contact: str | None
    official_domains: list[str]
    github_orgs: list[str]
    url: str
    entries: list[EntrySummary]
    proofs: list[HeldProofOut]


@dataclass
class InstitutionView:
    institution: Institution
    entries: list[browse.Listed]
    proofs: list[browse.HeldProof]
    country_name: str
    type_name: str
    now: datetime


def proof_label(name: str) -> str:
    try:
        label = PROOF_LABELS[ProofName(name)]
    except (ValueError, KeyError):
        return name
    return label[:1].upper() + label[1:]


def institution_view(session: Session, slug: str) -> InstitutionView:
    inst = browse.institution(session, slug)
    if inst is None:
        raise HTTPException(status_code=404, detail=f"no institution {slug!r} in this register")
    return InstitutionView(
        institution=inst,
        entries=browse.institution_entries(session, inst.id),
        proofs=browse.institution_proofs(session, inst.id),
        country_name=COUNTRY_NAMES.get(inst.country, inst.country),
        type_name=facet_label("institution_type", inst.type),
        now=repo.now_utc(),
    )


@api_router.get("/institutions/{slug}", response_model=InstitutionDetail)
def get_institution(request: Request, slug: str) -> InstitutionDetail:
    """One institution: its domains, GitHub organisations, approved entries and held proofs."""
    with request.app.state.store.session() as session:
        view = institution_view(session, slug)
        inst = view.institution
        return InstitutionDetail(
            slug=inst.slug, name=inst.name, acronym=inst.acronym, country=inst.country,
            type=inst.type, type_label=inst.type_label, homepage_url=inst.homepage_url,
            contact=inst.contact, official_domains=list(inst.official_domains or []),
            github_orgs=list(inst.github_orgs or []),
            url=str(request.url_for("institution_page", slug=inst.slug)),
            entries=[EntrySummary(**_summary(request, item.entry, item.score))
                     for item in view.entries],
            proofs=[HeldProofOut(entry=p.entry_slug, entry_name=p.entry_name, proof=p.name,
                                 label=proof_label(p.name), sentence=p.sentence, url=p.url,
                                 checked_at=p.checked_at) for p in view.proofs],
        )


@page_router.get("/institution/{slug}", response_class=HTMLResponse, name="institution_page")
def institution_page(request: Request, slug: str):
    with request.app.state.store.session() as session:
        view = institution_view(session, slug)
        return request.app.state.templates.TemplateResponse(
            request, "institution.html", {"v": view, "proof_label": proof_label,
                                          "current_state": repo.current_state},
        )


@page_router.get("/institutions", response_class=HTMLResponse, name="institutions_page")
def institutions_page(request: Request):
    with request.app.state.store.session() as session:
        rows = repo.institutions_with_counts(session)
        return request.app.state.templates.TemplateResponse(
            request, "institutions.html",
            {"rows": rows, "type_label": lambda t: facet_label("institution_type", t),
             "country_names": COUNTRY_NAMES},
        )
