"""The PostgreSQL search index: one ``entry_search`` row per approved entry, kept by triggers.

The same contract as the SQLite index (eurodex.search.sqlite_index): triggers rather than
calls from the repository, so every writer (harvests, checks on any worker, scoring,
curators) keeps the index right without knowing it exists; only APPROVED entries have a row,
so a search can never surface a quarantined or rejected entry.

``document`` is a ``tsvector`` under a GIN index, weighted like the FTS5 columns' bm25
weights: the name (A), the institution's name and acronym (B), the tags (C), the summary and
description (D). Text goes through :data:`FOLD` first: ``unaccent`` (so "donnees" finds
"Données" and "oeuvres" finds "Œuvres"), then ASCII punctuation becomes a space, so that
"data.gouv.fr" or "vélo-partage" are split into words exactly as FTS5's unicode61 tokenizer
splits them, rather than kept whole as host names or compound words by PostgreSQL's parser.
The ``simple`` configuration lowercases and never stems, like unicode61.

``unaccent()`` itself is only STABLE (it looks its dictionary up through the search path),
which PostgreSQL refuses in index expressions and generated columns; ``eurodex_unaccent``
names the dictionary with its schema and is declared IMMUTABLE, the documented way round.
The facet columns beside the document let filters, counts and sorts read one narrow row.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: The functions every row and every query term go through.
FUNCTIONS = (
    "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
    """CREATE OR REPLACE FUNCTION eurodex_unaccent(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, value) $$""",
    """CREATE OR REPLACE FUNCTION eurodex_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(regexp_replace(eurodex_unaccent(value), '[[:punct:]]+', ' ', 'g'))
        $$""",
)

#: Longest summary-and-description text indexed: a tsvector holds at most 1 MB.
BODY_LIMIT = 100_000

_DOCUMENT = (
    "setweight(to_tsvector('simple', eurodex_fold(e.name)), 'A') || "
    "setweight(to_tsvector('simple', eurodex_fold(coalesce(i.name, '') || ' ' || "
    "coalesce(i.acronym, ''))), 'B') || "
    "setweight(to_tsvector('simple', eurodex_fold(coalesce((SELECT string_agg(t, ' ') "
    "FROM json_array_elements_text(CASE WHEN json_typeof(e.tags) = 'array' THEN e.tags "
    "ELSE '[]'::json END) AS t), ''))), 'C') || "
    f"setweight(to_tsvector('simple', eurodex_fold(left(coalesce(e.summary, '') || ' ' || "
    f"coalesce(e.description, ''), {BODY_LIMIT}))), 'D')"
)
_TOPICS = (
    "coalesce(ARRAY(SELECT DISTINCT t FROM json_array_elements_text(CASE WHEN "
    "json_typeof(e.topics) = 'array' THEN e.topics ELSE '[]'::json END) AS t ORDER BY t), "
    "'{}')"
)
_COLUMNS = ("entry_id, document, sort_name, kind, country, state, institution_type, "
            "institution_id, tier, composite, topics, checked_at")
_ROWS = (
    f"SELECT e.id, {_DOCUMENT}, coalesce(e.sort_name, e.name), e.kind, e.country, e.state, "
    "i.type, e.institution_id, "
    f"s.tier, s.composite, {_TOPICS}, e.last_check_at FROM entries AS e "
    "LEFT JOIN institutions AS i ON i.id = e.institution_id "
    "LEFT JOIN scores AS s ON s.entry_id = e.id WHERE e.status = 'APPROVED'"
)
_UPDATE_ALL = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS.split(", ")[1:])

TABLES = (
    """CREATE TABLE IF NOT EXISTS entry_search (
        entry_id INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL,
        sort_name VARCHAR(500) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        country VARCHAR(2),
        state VARCHAR(16) NOT NULL,
        institution_type VARCHAR(32),
        institution_id INTEGER,
        tier VARCHAR(16),
        composite INTEGER,
        topics TEXT[] NOT NULL DEFAULT '{}',
        checked_at TIMESTAMP WITH TIME ZONE)""",
    "CREATE INDEX IF NOT EXISTS ix_entry_search_document ON entry_search USING gin (document)",
    "CREATE INDEX IF NOT EXISTS ix_entry_search_topics ON entry_search USING gin (topics)",
    *(f"CREATE INDEX IF NOT EXISTS ix_entry_search_{column} ON entry_search ({column})"
      for column in ("sort_name", "composite", "checked_at", "institution_id", "country",
                     "kind", "institution_type", "tier", "state")),
)

# One function writes an entry's row (or removes it when the entry is not approved): every
# trigger calls it, so there is one definition of what the index holds.
REFRESH = f"""CREATE OR REPLACE FUNCTION eurodex_search_refresh(target INTEGER) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO entry_search ({_COLUMNS}) {_ROWS} AND e.id = target
            ON CONFLICT (entry_id) DO UPDATE SET {_UPDATE_ALL};
        IF NOT FOUND THEN
            DELETE FROM entry_search WHERE entry_id = target;
        END IF;
    END $$"""

# Columns whose change alters what a search matches or what a facet counts; JSON has no
# equality in PostgreSQL, so lists are compared as text.
_CHANGED = " OR ".join(
    [f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in (
        "name", "sort_name", "summary", "description", "status", "institution_id", "kind",
        "country", "state")]
    + [f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" for c in ("tags", "topics")]
)

TRIGGER_FUNCTIONS = {
    "eurodex_search_entries": """BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM eurodex_search_refresh(NEW.id);
        ELSIF {changed} THEN
            PERFORM eurodex_search_refresh(NEW.id);
        ELSIF OLD.last_check_at IS DISTINCT FROM NEW.last_check_at THEN
            UPDATE entry_search SET checked_at = NEW.last_check_at WHERE entry_id = NEW.id;
        END IF;
        RETURN NULL;
    END""".replace("{changed}", _CHANGED),
    "eurodex_search_scores": """BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE entry_search SET tier = NULL, composite = NULL WHERE entry_id = OLD.entry_id;
        ELSE
            UPDATE entry_search SET tier = NEW.tier, composite = NEW.composite
                WHERE entry_id = NEW.entry_id
                AND (tier IS DISTINCT FROM NEW.tier OR composite IS DISTINCT FROM NEW.composite);
        END IF;
        RETURN NULL;
    END""",
    "eurodex_search_institutions": """BEGIN
        IF OLD.name IS DISTINCT FROM NEW.name OR OLD.acronym IS DISTINCT FROM NEW.acronym
                OR OLD.type IS DISTINCT FROM NEW.type THEN
            PERFORM eurodex_search_refresh(e.id) FROM entries AS e
                WHERE e.institution_id = NEW.id AND e.status = 'APPROVED';
        END IF;
        RETURN NULL;
    END""",
}

TRIGGERS = {
    "entries_search": "AFTER INSERT OR UPDATE ON entries FOR EACH ROW "
                      "EXECUTE FUNCTION eurodex_search_entries()",
    "scores_search": "AFTER INSERT OR UPDATE OF tier, composite OR DELETE ON scores "
                     "FOR EACH ROW EXECUTE FUNCTION eurodex_search_scores()",
    "institutions_search": "AFTER UPDATE OF name, acronym, type ON institutions "
                           "FOR EACH ROW EXECUTE FUNCTION eurodex_search_institutions()",
}
_TRIGGER_TABLES = {"entries_search": "entries", "scores_search": "scores",
                   "institutions_search": "institutions"}


def refill(connection: Connection) -> None:
    """Empty the index and fill it again from the approved entries."""
    connection.execute(text("DELETE FROM entry_search"))
    connection.execute(text(f"INSERT INTO entry_search ({_COLUMNS}) {_ROWS}"))


def install(connection: Connection) -> None:
    """Create the functions, table, indexes and triggers (replacing them) and fill the table."""
    for statement in (*FUNCTIONS, *TABLES, REFRESH):
        connection.execute(text(statement))
    for name, body in TRIGGER_FUNCTIONS.items():
        connection.execute(text(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ {body} $$"))
    for name, definition in TRIGGERS.items():
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {_TRIGGER_TABLES[name]}"))
        connection.execute(text(f"CREATE TRIGGER {name} {definition}"))
    refill(connection)


def uninstall(connection: Connection) -> None:
    for name, table in _TRIGGER_TABLES.items():
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
    connection.execute(text("DROP TABLE IF EXISTS entry_search"))
    for name in (*TRIGGER_FUNCTIONS, "eurodex_search_refresh"):
        connection.execute(text(f"DROP FUNCTION IF EXISTS {name}"))
    connection.execute(text("DROP FUNCTION IF EXISTS eurodex_fold(text)"))
    connection.execute(text("DROP FUNCTION IF EXISTS eurodex_unaccent(text)"))
