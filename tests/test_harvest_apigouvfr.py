"""Harvesting the shipped api.gouv.fr snapshot: counts, provenance, slugs, bad input, reruns."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from eurodex import pipeline
from eurodex.harvest.apigouvfr import ApiGouvFrHarvester
from eurodex.harvest.records import HarvestError
from eurodex.store import repository as repo
from eurodex.store.tables import CapturedSchemaRow, Entry, HarvestRun, Institution, Provenance


def _count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_shipped_snapshot_yields_170_entries_and_60_institutions(store):
    report = pipeline.harvest(store, ApiGouvFrHarvester())

    assert (report.new, report.updated, report.failed) == (170, 0, 0)
    assert report.institutions == 60
    assert _count(store, Entry) == 170
    assert _count(store, Institution) == 60
    with store.session() as session:
        types = dict(session.execute(
            select(Institution.type, func.count()).group_by(Institution.type)).all())
        # 23 ministries and 1 court are GOVERNMENT; 23 public bodies and 4 GIPs AGENCY.
        assert types == {"GOVERNMENT": 24, "AGENCY": 27, "REGION": 1, "MUNICIPALITY": 1,
                         "OTHER_PUBLIC": 7}
        statuses = set(session.scalars(select(Entry.status)))
        assert statuses == {"APPROVED"}  # a trusted catalogue with known producers
        # The 18 entries that point at a spec the catalogue hosts were all captured.
        assert session.scalar(select(func.count()).select_from(CapturedSchemaRow).where(
            CapturedSchemaRow.error.is_(None))) == 18
        run = session.scalar(select(HarvestRun))
        assert run.status == "ok" and run.new == 170 and run.finished_at is not None


def test_every_stored_entry_field_has_a_provenance_row(harvested_store):
    store = harvested_store  # the shipped snapshot, harvested once per session
    with store.session() as session:
        for entry in session.scalars(select(Entry)):
            recorded = {p.field for p in repo.provenance_for(session, "entry", entry.id)}
            stored = {name for name in repo.ENTRY_FIELDS if getattr(entry, name) not in
                      (None, [], "")}
            assert stored <= recorded, (entry.slug, stored - recorded)
        cvec = repo.entry_by_slug(session, "api-cvec")
        rows = {p.field: p for p in repo.provenance_for(session, "entry", cvec.id)}
        assert rows["name"].method == "harvested"
        assert rows["country"].method == "inferred"
        assert rows["base_url"].method == "extracted"  # from the spec's first server
        assert rows["name"].record_url == "https://api.gouv.fr/les-api/api-cvec"


def test_slugs_are_ascii_unique_and_stable(harvested_store):
    store = harvested_store  # the shipped snapshot, harvested once per session
    with store.session() as session:
        slugs = {e.record_id: e.slug for e in session.scalars(select(Entry))}
    assert len(set(slugs.values())) == 170
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs.values())
    assert slugs["API_Ingres_Noyau"] == "api-ingres-noyau"
    pipeline.harvest(store, ApiGouvFrHarvester())
    with store.session() as session:
        assert {e.record_id: e.slug for e in session.scalars(select(Entry))} == slugs


def test_slugify_transliterates():
    assert repo.slugify("Données de l'Éducation — Île-de-France") == (
        "donnees-de-l-education-ile-de-france")
    assert repo.slugify("Ærø straße") == "aero-strasse"
    assert repo.slugify("!!!") == "entry"


def test_harvesting_twice_changes_nothing(harvested_store):
    store = harvested_store  # the shipped snapshot, harvested and scored once per session
    with store.session() as session:
        before_entries = {e.slug: e.updated_at for e in session.scalars(select(Entry))}
        before_prov = {(p.subject_id, p.field, p.recorded_at) for p in
                       session.scalars(select(Provenance))}

    report = pipeline.harvest(store, ApiGouvFrHarvester())

    assert (report.new, report.updated, report.unchanged, report.failed) == (0, 0, 170, 0)
    with store.session() as session:
        assert {e.slug: e.updated_at for e in session.scalars(select(Entry))} == before_entries
        assert {(p.subject_id, p.field, p.recorded_at) for p in
                session.scalars(select(Provenance))} == before_prov
    assert _count(store, Entry) == 170
    assert _count(store, Institution) == 60


def test_malformed_front_matter_is_reported_and_skipped(store, snapshot_copy, caplog):
    (snapshot_copy / "api" / "api-cvec.md").write_text(
        "---\ntitle: [unclosed\nproducer: cnous\n---\nbody\n", "utf-8")
    (snapshot_copy / "api" / "zz-no-title.md").write_text(
        "---\nproducer: cnous\n---\nbody\n", "utf-8")
    (snapshot_copy / "api" / "zz-not-front-matter.md").write_text("just text\n", "utf-8")

    report = pipeline.harvest(store, ApiGouvFrHarvester(snapshot_copy))

    assert report.new == 169
    assert report.failed == 3
    reasons = {f.record: f.reason for f in report.failures}
    assert reasons["api/api-cvec.md"].startswith("api-cvec.md: invalid YAML front matter at line")
    assert reasons["api/zz-no-title.md"] == "zz-no-title.md: no title"
    assert "no front matter" in reasons["api/zz-not-front-matter.md"]
    assert all(f.source == "api.gouv.fr" for f in report.failures)
    assert "skipped api-cvec.md" in caplog.text
    with store.session() as session:
        run = session.scalar(select(HarvestRun))
        assert run.status == "partial" and run.failed == 3
        assert {f["record"] for f in run.failures} == set(reasons)


def test_a_failed_record_never_deletes_its_entry(store, snapshot_copy):
    pipeline.harvest(store, ApiGouvFrHarvester(snapshot_copy))
    (snapshot_copy / "api" / "api-cvec.md").write_text("---\ntitle: [\n---\n", "utf-8")
    report = pipeline.harvest(store, ApiGouvFrHarvester(snapshot_copy))
    assert report.failed == 1
    with store.session() as session:
        cvec = repo.entry_by_slug(session, "api-cvec")
        assert cvec is not None and cvec.name.startswith("API contrôle CVEC")
    assert _count(store, Entry) == 170


def test_yaml_scalars_stay_strings(store, snapshot_copy):
    (snapshot_copy / "api" / "zz-yaml-traps.md").write_text(
        "---\ntitle: no\nproducer: cnous\nis_open: 1\nlast_update: 01/02/2024\n"
        "keywords:\n  - 1.10\n  - yes\nthemes:\n  - Education\n---\nA body long enough.\n",
        "utf-8")
    pipeline.harvest(store, ApiGouvFrHarvester(snapshot_copy))
    with store.session() as session:
        entry = repo.entry_by_slug(session, "zz-yaml-traps")
        assert entry.name == "no"
        assert entry.tags == ["1.10", "yes"]
        assert entry.last_modified == "2024-02-01"
        assert entry.topics == ["EDUC"]


def test_a_missing_catalogue_folder_is_a_clear_error(tmp_path):
    with pytest.raises(HarvestError, match="not an api.gouv.fr catalogue folder"):
        ApiGouvFrHarvester(tmp_path)
