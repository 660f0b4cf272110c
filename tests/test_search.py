"""The search interface: accents, ranking, approved entries only, facets, bounds, upkeep."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from eurodex.harvest.themes import EU_THEMES
from eurodex.search import (
    InvalidQuery,
    PortableSearch,
    PostgresSearch,
    SearchQuery,
    SqliteSearch,
    search,
    searcher_for,
)
from eurodex.search import postgres as postgres_search
from eurodex.search import sqlite as sqlite_search
from eurodex.search.sqlite_index import TOPIC_BITS, TRIGGER_NAMES
from eurodex.store import repository as repo
from eurodex.store.tables import Entry, Institution, Source


def _source(session) -> Source:
    return repo.ensure_source(session, slug="test", name="test", format="test", url=None,
                              trusted=True)


def _institution(session, slug: str, name: str, acronym: str | None = None,
                 type_: str = "AGENCY") -> Institution:
    now = repo.now_utc()
    inst = Institution(slug=slug, name=name, acronym=acronym, country="FR", type=type_,
                       official_domains=[], github_orgs=[], created_at=now, updated_at=now)
    session.add(inst)
    session.flush()
    return inst


def _entry(session, name: str, *, description: str = "", summary: str | None = None,
           status: str = "APPROVED", tags: list[str] | None = None,
           topics: list[str] | None = None, institution: Institution | None = None,
           country: str = "FR", kind: str = "API", state: str = "UNVERIFIED") -> Entry:
    now = repo.now_utc()
    slug = repo.slugify(name)
    entry = Entry(slug=slug, kind=kind, name=name, summary=summary, description=description,
                  country=country, topics=topics or [], tags=tags or [],
                  institution_id=institution.id if institution else None,
                  source_id=_source(session).id, record_id=slug, status=status,
                  status_reason="test", state=state, consecutive_failures=0, created_at=now,
                  updated_at=now)
    session.add(entry)
    session.flush()
    return entry


def _names(store, **query) -> list[str]:
    with store.session() as session:
        result = search(session, SearchQuery(**query))
        return [session.get(Entry, i).name for i in result.ids]


def test_topic_bits_follow_the_eu_theme_vocabulary():
    assert tuple(EU_THEMES) == TOPIC_BITS


def test_the_implementation_follows_the_database():
    assert isinstance(searcher_for("sqlite"), SqliteSearch)
    assert isinstance(searcher_for("postgresql"), PostgresSearch)
    assert isinstance(searcher_for("mysql"), PortableSearch)


def test_words_match_without_accents_or_case(harvested_store):
    plain = _names(harvested_store, text="donnees", limit=100)
    accented = _names(harvested_store, text="DONNÉES", limit=100)
    assert plain == accented
    assert any("Données" in name for name in plain)
    assert "API Données locales de consommation d'énergie" in plain
    # Typed decomposed (e and a combining acute) or in fullwidth letters: the same words.
    assert _names(harvested_store, text="donne\u0301es", limit=100) == plain
    assert _names(harvested_store, text="ｄｏｎｎｅｅｓ", limit=100) == plain
    # An underscore separates words, as in the index: alone it is no word at all.
    assert search_total(harvested_store, "_") == search_total(harvested_store, "")
    assert search_total(harvested_store, "api_cvec") == search_total(harvested_store, "api cvec")


def search_total(store, words: str) -> int:
    with store.session() as session:
        return search(session, SearchQuery(text=words)).total


def test_a_word_in_the_name_ranks_above_the_same_word_in_a_description(store):
    with store.session() as session:
        _entry(session, "Registre des parcelles", description="cadastre " * 3)
        _entry(session, "API Cadastre", description="Les parcelles de France.")
        _entry(session, "Base adresse", description="Un mot sur le cadastre.")
    assert _names(store, text="cadastre") == ["API Cadastre", "Registre des parcelles",
                                              "Base adresse"]


def test_only_approved_entries_are_found_counted_and_kept_in_step(store):
    with store.session() as session:
        hidden = _entry(session, "API Zorglub", status="QUARANTINED")
        _entry(session, "API Zorglub rejetée", status="REJECTED")
        hidden_id = hidden.id
    assert _names(store, text="zorglub") == []
    with store.session() as session:
        assert search(session, SearchQuery()).total == 0
        session.get(Entry, hidden_id).status = "APPROVED"
    assert _names(store, text="zorglub") == ["API Zorglub"]
    with store.session() as session:
        result = search(session, SearchQuery())
        assert result.total == 1 and result.facets["kind"][0].count == 1
        session.get(Entry, hidden_id).status = "RETIRED"
    assert _names(store, text="zorglub") == []
    with store.session() as session:
        assert search(session, SearchQuery()).facets["kind"] == []


def test_institutions_and_tags_are_searched_and_renames_reindexed(store):
    with store.session() as session:
        inst = _institution(session, "cnous", "Centre national des œuvres", "CNOUS")
        _entry(session, "API Bourses", institution=inst)
        _entry(session, "API Mobilité", tags=["vélo", "covoiturage"])
        inst_id = inst.id
    assert _names(store, text="cnous") == ["API Bourses"]
    assert _names(store, text="ŒUVRES") == ["API Bourses"]
    assert _names(store, text="velo") == ["API Mobilité"]
    with store.session() as session:
        session.get(Institution, inst_id).acronym = "CROUS"
    assert _names(store, text="cnous") == []
    assert _names(store, text="crous") == ["API Bourses"]


def test_punctuation_splits_words_as_in_the_index(store):
    """Host names, hyphens and apostrophes split into words on every database."""
    with store.session() as session:
        _entry(session, "API Adresse", description="Publiée sur data.gouv.fr, voir "
               "https://adresse.data.gouv.fr/api-doc.")
        _entry(session, "Vélo-partage", tags=["open_data"])
    assert _names(store, text="gouv") == ["API Adresse"]
    assert _names(store, text="api doc") == ["API Adresse"]
    assert _names(store, text="partage") == ["Vélo-partage"]
    assert _names(store, text="velo partage") == ["Vélo-partage"]
    assert sorted(_names(store, text="data")) == ["API Adresse", "Vélo-partage"]


@pytest.mark.postgresql_only(reason="the PostgreSQL index's own objects")
def test_the_postgresql_index_is_a_gin_over_an_immutable_unaccent(store):
    with store.engine.connect() as connection:
        volatility = dict(connection.execute(text(
            "SELECT proname, provolatile FROM pg_proc "
            "WHERE proname IN ('eurodex_unaccent', 'eurodex_fold')")).all())
        method = connection.scalar(text(
            "SELECT am.amname FROM pg_index AS x JOIN pg_class AS c ON c.oid = x.indexrelid "
            "JOIN pg_am AS am ON am.oid = c.relam WHERE c.relname = 'ix_entry_search_document'"))
        folded = connection.scalar(text("SELECT eurodex_unaccent('Œuvres données')"))
    assert volatility == {"eurodex_unaccent": "i", "eurodex_fold": "i"}
    assert method == "gin"
    assert folded == "OEuvres donnees"


def test_lists_sort_names_without_case_accents_or_leading_quotes(store):
    names = ["Zürich open data", "État open data", "etalab open data", "Ångström open data",
             "« Portail » open data", "ABC open data", "abd open data"]
    with store.session() as session:
        for name in names:
            _entry(session, name)
    expected = ["ABC open data", "abd open data", "Ångström open data", "etalab open data",
                "État open data", "« Portail » open data", "Zürich open data"]
    assert _names(store) == expected  # no words: the listing, by name
    assert _names(store, text="open", sort="checked") == expected  # none checked: by name
    with store.session() as session:
        for query in (SearchQuery(), SearchQuery(text="open", sort="checked")):
            portable = PortableSearch().search(session, query)
            assert [session.get(Entry, i).name for i in portable.ids] == expected


def test_prefixes_and_search_syntax(store):
    with store.session() as session:
        _entry(session, "API Recherche d'entreprises")
    assert _names(store, text="entrepr*") == ["API Recherche d'entreprises"]
    assert _names(store, text="entrepr") == []
    # FTS5 operators and quotes in the text are words or nothing, never syntax errors.
    for hostile in ('"', 'NEAR(entreprises', "entreprises OR", "*", "AND NOT -", "{}:^"):
        with store.session() as session:
            search(session, SearchQuery(text=hostile))


def test_facets_count_the_matches_and_filters_narrow(harvested_store):
    with harvested_store.session() as session:
        everything = search(session, SearchQuery(limit=500))
        entries = [session.get(Entry, i) for i in everything.ids]
        topics = Counter(code for e in entries for code in dict.fromkeys(e.topics))
        assert {c.value: c.count for c in everything.facets["topic"]} == dict(topics)
        types = Counter(e.institution.type for e in entries if e.institution)
        assert {c.value: c.count for c in everything.facets["institution_type"]} == dict(types)

        words = search(session, SearchQuery(text="donnees", limit=500))
        for facet in ("topic", "institution_type", "tier"):
            for count in words.facets[facet]:
                narrowed = search(session, SearchQuery(text="donnees", limit=500,
                                                       **{facet: count.value}))
                assert narrowed.total == count.count == len(narrowed.ids)
                assert set(narrowed.ids) <= set(words.ids)


def test_register_totals_stay_exact_through_changes(harvested_store):
    """The triggers' running totals equal a count from scratch after every kind of change."""
    def counted_from_scratch(session) -> dict:
        forced = search(session, SearchQuery(kind="API"))  # any filter counts the rows
        return forced.facets

    with harvested_store.session() as session:
        cvec = repo.entry_by_slug(session, "api-cvec")
        cvec.state = "VERIFIED"
        cvec.topics = ["TECH"]
        session.flush()
        session.execute(text("UPDATE scores SET tier = 'excellent' WHERE entry_id = :i"),
                        {"i": cvec.id})
        cvec.institution.type = "EU_INSTITUTION"
    with harvested_store.session() as session:
        totals = search(session, SearchQuery()).facets
        assert totals == counted_from_scratch(session)
        assert {"VERIFIED", "UNVERIFIED"} == {c.value for c in totals["state"]}
        assert "excellent" in {c.value for c in totals["tier"]}
        assert "TECH" in {c.value for c in totals["topic"]}
        # Words with filters meet in the FTS index: its facet tokens followed every change.
        for name, value in (("state", "VERIFIED"), ("tier", "excellent"), ("topic", "TECH"),
                            ("institution_type", "EU_INSTITUTION")):
            assert search(session, SearchQuery(text="cvec", **{name: value})).total == 1, name
        assert search(session, SearchQuery(text="cvec", topic="EDUC")).total == 0
        assert search(session, SearchQuery(text="cvec", state="UNVERIFIED")).total == 0


def test_sorting_by_score_and_recent_check(harvested_store):
    with harvested_store.session() as session:
        best = search(session, SearchQuery(sort="score", limit=500))
        composites = [repo.score_for(session, i).composite for i in best.ids]
        assert composites == sorted(composites, reverse=True) and composites[0] > composites[-1]
        cvec = repo.entry_by_slug(session, "api-cvec")
        cvec.last_check_at = repo.now_utc()
        cvec_id = cvec.id
    with harvested_store.session() as session:
        assert search(session, SearchQuery(sort="checked")).ids[0] == cvec_id


def test_pages_by_score_are_the_pages_of_one_full_sort(harvested_store):
    """SQLite reads a page by score tier by tier; every page must be the slice of the whole
    order, across tier boundaries, the unscored entries last, whatever the offset."""
    with harvested_store.session() as session:
        unscored = repo.entry_by_slug(session, "api-cvec")
        session.execute(text("DELETE FROM scores WHERE entry_id = :i"), {"i": unscored.id})
        session.execute(text("UPDATE entries SET name = name WHERE id = :i"),
                        {"i": unscored.id})
    with harvested_store.session() as session:
        whole = search(session, SearchQuery(text="api", sort="score", limit=500))
        assert whole.total == len(whole.ids) > 60 and whole.ids[-1] == unscored.id
        scores = [repo.score_for(session, i) for i in whole.ids[:-1]]
        composites = [s.composite for s in scores]
        assert composites == sorted(composites, reverse=True)
        assert len({s.tier for s in scores}) >= 2
        for offset in range(0, whole.total + 5, 7):
            page = search(session, SearchQuery(text="api", sort="score", limit=9,
                                               offset=offset))
            assert page.ids == whole.ids[offset:offset + 9], offset


def test_bounded_work_says_what_it_did(harvested_store, monkeypatch):
    dialect = harvested_store.engine.dialect.name
    implementation = {"sqlite": sqlite_search, "postgresql": postgres_search}[dialect]
    monkeypatch.setattr(implementation, "FACET_LIMIT", 10)
    monkeypatch.setattr(implementation, "RANK_LIMIT", 20)
    with harvested_store.session() as session:
        result = search(session, SearchQuery(text="donnees"))
        assert result.total == len(_names(harvested_store, text="donnees", limit=500)) > 20
        assert result.counted == 10 and not result.facets_complete
        assert sum(c.count for c in result.facets["kind"]) == 10
        assert result.ranked_by == "score"
        small = search(session, SearchQuery(text="cnous"))
        assert small.facets_complete and small.ranked_by == "relevance"


def test_bad_parameters_are_refused_by_name(harvested_store):
    cases = {"topic": "NOPE", "tier": "great", "state": "UP", "kind": "FILE",
             "institution_type": "CLUB", "country": "France", "sort": "random"}
    with harvested_store.session() as session:
        for name, value in cases.items():
            with pytest.raises(InvalidQuery, match=name):
                search(session, SearchQuery(**{name: value}))
        assert search(session, SearchQuery(topic="educ", tier="GOOD")).total >= 0


def test_portable_search_agrees_where_accents_are_not_involved(harvested_store):
    with harvested_store.session() as session:
        for query in (SearchQuery(text="cnous", limit=500),
                      SearchQuery(topic="EDUC", sort="score", limit=500),
                      SearchQuery(institution_type="AGENCY", tier="fair", limit=500),
                      SearchQuery(limit=500)):
            fts, portable = search(session, query), PortableSearch().search(session, query)
            assert fts.total == portable.total > 0
            assert fts.facets == portable.facets
            if query.text:  # each ranks in its own way
                assert set(fts.ids) == set(portable.ids)
            else:  # by score, or by name: the same order
                assert fts.ids == portable.ids


@pytest.mark.sqlite_only(reason="FTS5 triggers and sqlite_master")
def test_migrate_puts_back_triggers_a_table_rebuild_removed(store):
    with store.session() as session:
        _entry(session, "API Alpha")
    with store.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER entries_search_insert"))
        connection.execute(text("DELETE FROM entry_fts"))
    store.migrate()
    with store.engine.connect() as connection:
        present = set(connection.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert set(TRIGGER_NAMES) <= present
    assert _names(store, text="alpha") == ["API Alpha"]
