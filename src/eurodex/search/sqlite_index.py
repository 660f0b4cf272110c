"""The SQLite search index: an FTS5 table and a facet table, kept in step by triggers.

Triggers rather than calls from the repository, so that every writer (harvests, checks,
scoring, curators, another process on the same file) keeps the index right without knowing
it exists. Both tables hold APPROVED entries only: a search can never surface a quarantined
or rejected entry, and the facet counts need no join to know what is public.

``entry_fts`` (FTS5, ``unicode61 remove_diacritics 2``) has four columns that words are
matched in, weighted when ranking: the entry's name, its text (summary and description), its
institution (name and acronym) and its tags; and a fifth, ``facets``, holding one token per
facet value (:func:`facet_token`), so that words and filters meet inside FTS5 and a search
for a common word in one country never walks the word's matches in every other country.
``entry_facets`` is one narrow row per approved entry with what the facets count and the
sorts order by (the name as ``entries.sort_name`` folds it); topics are a bit mask over
:data:`TOPIC_BITS`.
``facet_totals`` keeps, for each facet value, how many approved entries have it, so the
unfiltered register's counts (the home page) are read, not counted.

Migration 0107 installs all of this (0110 again, for the sort key); :func:`repair` puts
back triggers that a later table-rebuilding migration (Alembic's batch mode on SQLite copies
a table and drops the original, and its triggers with it) has removed, then refills the
tables.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from eurodex.search.query import COUNTED

log = logging.getLogger("eurodex.search")

#: The thirteen EU data themes, in bit order. The order is stored in every row's mask, so it
#: may only grow at the end; a test keeps it equal to eurodex.harvest.themes.EU_THEMES.
TOPIC_BITS = ("AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI",
              "SOCI", "TECH", "TRAN")

# Expressions over one entries row, written with {r} for the row: NEW in a trigger, e in a
# refill.
_TOPIC_MASK = (
    "(SELECT coalesce(sum(DISTINCT CASE j.value "
    + " ".join(f"WHEN '{code}' THEN {1 << bit}" for bit, code in enumerate(TOPIC_BITS))
    + " END), 0) FROM json_each({r}.topics) AS j)"
)
_FACET_TOKENS = (
    "'c' || lower(coalesce({r}.country, '')) || ' k' || lower({r}.kind) "
    "|| ' s' || lower({r}.state) "
    "|| coalesce((SELECT ' t' || lower(replace(i.type, '_', '')) FROM institutions AS i "
    "WHERE i.id = {r}.institution_id), '') "
    "|| coalesce((SELECT ' r' || lower(s.tier) FROM scores AS s WHERE s.entry_id = {r}.id), '') "
    "|| coalesce((SELECT ' ' || group_concat('x' || lower(j.value), ' ') "
    "FROM json_each({r}.topics) AS j), '')"
)
_FTS_ROW = (
    "SELECT {r}.id, {r}.name, "
    "coalesce({r}.summary, '') || ' ' || coalesce({r}.description, ''), "
    "coalesce((SELECT i.name || ' ' || coalesce(i.acronym, '') FROM institutions AS i "
    "WHERE i.id = {r}.institution_id), ''), "
    "coalesce((SELECT group_concat(t.value, ' ') FROM json_each({r}.tags) AS t), ''), "
    + _FACET_TOKENS
)
_FACET_PREFIXES = {"country": "c", "kind": "k", "state": "s", "institution_type": "t",
                   "tier": "r", "topic": "x"}


def facet_token(facet: str, value: str) -> str:
    """The token ``entry_fts.facets`` holds for one facet value: ``cfr``, ``teuinstitution``."""
    return _FACET_PREFIXES[facet] + value.lower().replace("_", "")
_FACET_ROW = (
    "SELECT {r}.id, coalesce({r}.sort_name, {r}.name), {r}.kind, {r}.country, {r}.state, "
    "(SELECT i.type FROM institutions AS i WHERE i.id = {r}.institution_id), "
    "{r}.institution_id, "
    "(SELECT s.tier FROM scores AS s WHERE s.entry_id = {r}.id), "
    "(SELECT s.composite FROM scores AS s WHERE s.entry_id = {r}.id), "
    + _TOPIC_MASK + ", {r}.last_check_at"
)
_FTS_INSERT = "INSERT INTO entry_fts (rowid, name, body, institution, tags, facets) "
_FACET_INSERT = (
    "INSERT INTO entry_facets (entry_id, sort_name, kind, country, state, institution_type, "
    "institution_id, tier, composite, topics, checked_at) "
)
_APPROVED = " WHERE {r}.status = 'APPROVED'"

# Columns whose change alters what a search matches, and what a facet counts or sorts by. A
# check changes last_check_at alone most of the time: that only moves the row's sort key.
_FTS_COLUMNS = ("name, summary, description, tags, status, institution_id, kind, country, "
                "state, topics")
_FACET_COLUMNS = "name, sort_name, kind, country, state, topics, status, institution_id"


def _facet_values(r: str) -> str:
    """(facet, value) rows of one entry_facets row: one per counted column, one per topic."""
    parts = [f"SELECT '{name}' AS facet, {r}.{name} AS value" for name in COUNTED]
    topics = ", ".join(f"('{code}', {1 << bit})" for bit, code in enumerate(TOPIC_BITS))
    parts.append(
        f"SELECT 'topic', t.column1 FROM (VALUES {topics}) AS t WHERE ({r}.topics & t.column2)"
    )
    return " UNION ALL ".join(parts)


_COUNT_IN = (
    "INSERT INTO facet_totals (facet, value, n) SELECT facet, value, 1 FROM ({values}) "
    "WHERE value IS NOT NULL ON CONFLICT (facet, value) DO UPDATE SET n = n + 1"
)
_COUNT_OUT = (
    "UPDATE facet_totals SET n = n - 1 WHERE (facet, value) IN "
    "(SELECT facet, value FROM ({values}) WHERE value IS NOT NULL)"
)

_TABLES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS entry_fts USING fts5(name, body, institution, tags, "
    "facets, tokenize = 'unicode61 remove_diacritics 2')",
    # No foreign key on purpose: a migration that rebuilds ``entries`` drops it, and a
    # cascade would silently empty this table; the triggers keep the rows in step instead.
    """CREATE TABLE IF NOT EXISTS entry_facets (
        entry_id INTEGER PRIMARY KEY,
        sort_name VARCHAR(500) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        country VARCHAR(2),
        state VARCHAR(16) NOT NULL,
        institution_type VARCHAR(32),
        institution_id INTEGER,
        tier VARCHAR(16),
        composite INTEGER,
        topics INTEGER NOT NULL DEFAULT 0,
        checked_at DATETIME)""",
    *(f"CREATE INDEX IF NOT EXISTS ix_entry_facets_{column} ON entry_facets ({column})"
      for column in ("sort_name", "composite", "checked_at", "institution_id", "country",
                     "kind", "institution_type", "tier", "state")),
    """CREATE TABLE IF NOT EXISTS facet_totals (
        facet VARCHAR(32) NOT NULL,
        value VARCHAR(32) NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (facet, value)) WITHOUT ROWID""",
)


def _row(template: str, r: str) -> str:
    return template.replace("{r}", r)


def _triggers() -> dict[str, str]:
    new_fts = _FTS_INSERT + _row(_FTS_ROW, "NEW") + _row(_APPROVED, "NEW")
    new_facets = _FACET_INSERT + _row(_FACET_ROW, "NEW") + _row(_APPROVED, "NEW")
    reindex_institution = (
        _FTS_INSERT + _row(_FTS_ROW, "e") + " FROM entries AS e "
        "WHERE e.institution_id = NEW.id AND e.status = 'APPROVED'"
    )

    def rewrite_scored(row: str) -> str:
        """The FTS row of a scored entry again, for its tier token."""
        return (
            f"DELETE FROM entry_fts WHERE rowid = {row}.entry_id; "
            + _FTS_INSERT + _row(_FTS_ROW, "e") + " FROM entries AS e "
            f"WHERE e.id = {row}.entry_id AND e.status = 'APPROVED'"
        )
    return {
        "entries_search_insert": f"""AFTER INSERT ON entries BEGIN
            {new_fts}; {new_facets}; END""",
        "entries_search_text": f"""AFTER UPDATE OF {_FTS_COLUMNS} ON entries BEGIN
            DELETE FROM entry_fts WHERE rowid = OLD.id; {new_fts}; END""",
        "entries_search_facets": f"""AFTER UPDATE OF {_FACET_COLUMNS} ON entries BEGIN
            DELETE FROM entry_facets WHERE entry_id = OLD.id; {new_facets}; END""",
        "entries_search_checked": """AFTER UPDATE OF last_check_at ON entries BEGIN
            UPDATE entry_facets SET checked_at = NEW.last_check_at WHERE entry_id = NEW.id;
            END""",
        "entries_search_delete": """AFTER DELETE ON entries BEGIN
            DELETE FROM entry_fts WHERE rowid = OLD.id;
            DELETE FROM entry_facets WHERE entry_id = OLD.id; END""",
        "scores_search_insert": f"""AFTER INSERT ON scores BEGIN
            UPDATE entry_facets SET tier = NEW.tier, composite = NEW.composite
            WHERE entry_id = NEW.entry_id; {rewrite_scored("NEW")}; END""",
        "scores_search_update": f"""AFTER UPDATE OF tier, composite ON scores BEGIN
            UPDATE entry_facets SET tier = NEW.tier, composite = NEW.composite
            WHERE entry_id = NEW.entry_id; {rewrite_scored("NEW")}; END""",
        "scores_search_delete": f"""AFTER DELETE ON scores BEGIN
            UPDATE entry_facets SET tier = NULL, composite = NULL
            WHERE entry_id = OLD.entry_id; {rewrite_scored("OLD")}; END""",
        "institutions_search_type": """AFTER UPDATE OF type ON institutions BEGIN
            UPDATE entry_facets SET institution_type = NEW.type
            WHERE institution_id = NEW.id; END""",
        "institutions_search_text": f"""AFTER UPDATE OF name, acronym, type ON institutions BEGIN
            DELETE FROM entry_fts WHERE rowid IN
                (SELECT id FROM entries WHERE institution_id = NEW.id);
            {reindex_institution}; END""",
        "facets_count_insert": f"""AFTER INSERT ON entry_facets BEGIN
            {_COUNT_IN.format(values=_facet_values("NEW"))}; END""",
        "facets_count_delete": f"""AFTER DELETE ON entry_facets BEGIN
            {_COUNT_OUT.format(values=_facet_values("OLD"))}; END""",
        "facets_count_update": f"""AFTER UPDATE OF {", ".join(COUNTED)}, topics
            ON entry_facets BEGIN
            {_COUNT_OUT.format(values=_facet_values("OLD"))};
            {_COUNT_IN.format(values=_facet_values("NEW"))}; END""",
    }


TRIGGER_NAMES = tuple(_triggers())


def refill(connection: Connection) -> None:
    """Empty both tables and fill them again from the approved entries."""
    connection.execute(text("DELETE FROM entry_fts"))
    connection.execute(text("DELETE FROM entry_facets"))
    connection.execute(text("DELETE FROM facet_totals"))
    approved = _row(_APPROVED, "e")
    connection.execute(text(_FTS_INSERT + _row(_FTS_ROW, "e") + " FROM entries AS e" + approved))
    # The facet rows go in with their counting trigger off: one grouped count is far quicker.
    connection.execute(text("DROP TRIGGER IF EXISTS facets_count_insert"))
    connection.execute(
        text(_FACET_INSERT + _row(_FACET_ROW, "e") + " FROM entries AS e" + approved)
    )
    counts = [f"SELECT '{name}', {name}, count(*) FROM entry_facets WHERE {name} IS NOT NULL "
              f"GROUP BY {name}" for name in COUNTED]
    topics = ", ".join(f"('{code}', {1 << bit})" for bit, code in enumerate(TOPIC_BITS))
    counts.append(f"SELECT 'topic', t.column1, count(*) FROM entry_facets AS f "
                  f"JOIN (VALUES {topics}) AS t ON (f.topics & t.column2) GROUP BY t.column1")
    connection.execute(
        text("INSERT INTO facet_totals (facet, value, n) " + " UNION ALL ".join(counts))
    )
    name = "facets_count_insert"
    connection.execute(text(f"CREATE TRIGGER {name} {_triggers()[name]}"))


def install(connection: Connection) -> None:
    """Create the tables and triggers (those missing) and fill the tables."""
    for statement in _TABLES:
        connection.execute(text(statement))
    for name, body in _triggers().items():
        connection.execute(text(f"CREATE TRIGGER IF NOT EXISTS {name} {body}"))
    refill(connection)


def missing_triggers(connection: Connection) -> list[str]:
    present = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    return [name for name in TRIGGER_NAMES if name not in present]


def repair(connection: Connection) -> bool:
    """Put back what a table rebuild removed; True when something had to be put back.

    Does nothing on a database that migration 0107 has not reached yet.
    """
    tables = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
    if "entry_fts" not in tables:
        return False
    missing = missing_triggers(connection)
    if not missing:
        return False
    log.warning("search index triggers missing (%s): reinstalling and refilling",
                ", ".join(missing))
    install(connection)
    return True
