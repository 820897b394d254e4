"""Search across every column (issue 16.4): a full-text index over each ticket and its conversation.

What is indexed: the key, title, description, requester (name and address)
and the text of its replies, notes and the requester's mails (history kinds
reply, note, comment). SQLite keeps it in an FTS5 table `ticket_search`
(rowid = ticket id); PostgreSQL in a table `ticket_search` of one tsvector per
ticket under a GIN index. Triggers keep both in step with every write, by the
service or not (import, seed, a script), so no writer can forget; this script
fills them for the tickets already there.

Both backends index the same words: runs of letters and digits, lowercased
(FTS5's unicode61 tokenizer; on PostgreSQL the text has everything else
turned into spaces before `to_tsvector('simple', …)`), so a query finds the
same tickets on either (`data.search`).
"""

from peewee import SqliteDatabase

CONVERSATION_KINDS = ("reply", "note", "comment")
"""The history rows whose words are searched: what the team wrote to the requester or itself, and what
the requester wrote back (a reply or note keeps it in detail.text, an inbound mail in detail.body)."""

_KINDS = ", ".join(f"'{kind}'" for kind in CONVERSATION_KINDS)

SQLITE = [
    "CREATE VIRTUAL TABLE ticket_search USING fts5(key, title, description, requester, conversation, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    # The index's words, for a prefix being typed (data.search: "logi" stands for "login").
    "CREATE VIRTUAL TABLE ticket_search_vocab USING fts5vocab(ticket_search, 'row')",
    # A bulk insert (data.search.deferred_indexing) sets this inside its transaction and indexes its rows
    # in one statement at the end: five times faster than a trigger per row. Never 1 once committed.
    "CREATE TABLE search_deferred (deferred INTEGER NOT NULL)",
    "INSERT INTO search_deferred (deferred) VALUES (0)",
    """CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket
       WHEN (SELECT deferred FROM search_deferred) = 0
       BEGIN
         INSERT INTO ticket_search (rowid, key, title, description, requester, conversation)
         VALUES (new.id, new.key, new.title, new.description,
                 coalesce(new.requester_name, '') || ' ' || coalesce(new.requester_email, ''), '');
       END""",
    # Only when a searched field really changes: a move writes the ticket too, and must not pay for this.
    """CREATE TRIGGER ticket_search_update AFTER UPDATE ON ticket
       WHEN new.key IS NOT old.key OR new.title IS NOT old.title OR new.description IS NOT old.description
         OR new.requester_name IS NOT old.requester_name OR new.requester_email IS NOT old.requester_email
       BEGIN
         UPDATE ticket_search SET key = new.key, title = new.title, description = new.description,
           requester = coalesce(new.requester_name, '') || ' ' || coalesce(new.requester_email, '')
         WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket BEGIN
         DELETE FROM ticket_search WHERE rowid = old.id;
       END""",
    f"""CREATE TRIGGER ticket_search_conversation AFTER INSERT ON history
       WHEN new.kind IN ({_KINDS}) AND json_valid(new.detail) AND (SELECT deferred FROM search_deferred) = 0
       BEGIN
         UPDATE ticket_search
         SET conversation = conversation || char(10) ||
           coalesce(json_extract(new.detail, '$.text'), json_extract(new.detail, '$.body'), '')
         WHERE rowid = new.ticket_id;
       END""",
    f"""INSERT INTO ticket_search (rowid, key, title, description, requester, conversation)
        SELECT t.id, t.key, t.title, t.description,
               coalesce(t.requester_name, '') || ' ' || coalesce(t.requester_email, ''),
               coalesce((SELECT group_concat(coalesce(json_extract(h.detail, '$.text'),
                                                      json_extract(h.detail, '$.body'), ''), char(10))
                         FROM history AS h
                         WHERE h.ticket_id = t.id AND h.kind IN ({_KINDS}) AND json_valid(h.detail)), '')
        FROM ticket AS t""",
]

POSTGRESQL = [
    """CREATE TABLE ticket_search (
         ticket_id integer PRIMARY KEY REFERENCES ticket (id) ON DELETE CASCADE,
         conversation text NOT NULL DEFAULT '',
         document tsvector NOT NULL)""",
    "CREATE INDEX ticket_search_document ON ticket_search USING gin (document)",
    # The words of a ticket as FTS5 sees them: runs of letters and digits (the default parser would keep
    # "ana@example.org" or "set-42" whole as well, which SQLite never does).
    """CREATE FUNCTION ticket_search_vector(key text, title text, description text, name text, email text,
                                            conversation text) RETURNS tsvector
       LANGUAGE sql IMMUTABLE AS $$
         SELECT to_tsvector('simple', regexp_replace(concat_ws(' ', key, title, description, name, email,
                                                               conversation), '[^[:alnum:]]+', ' ', 'g'))
       $$""",
    """CREATE FUNCTION ticket_search_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' AND current_setting('triageboard.defer_search', true) = 'on' THEN
           RETURN NULL;  -- a bulk insert indexes its rows at the end (data.search.deferred_indexing)
         END IF;
         IF TG_OP = 'UPDATE' AND NEW.key IS NOT DISTINCT FROM OLD.key AND NEW.title IS NOT DISTINCT FROM OLD.title
            AND NEW.description IS NOT DISTINCT FROM OLD.description
            AND NEW.requester_name IS NOT DISTINCT FROM OLD.requester_name
            AND NEW.requester_email IS NOT DISTINCT FROM OLD.requester_email THEN
           RETURN NULL;  -- a move, a triage answer: nothing searched changed
         END IF;
         INSERT INTO ticket_search AS s (ticket_id, conversation, document)
         VALUES (NEW.id, '', ticket_search_vector(NEW.key, NEW.title, NEW.description, NEW.requester_name,
                                                  NEW.requester_email, ''))
         ON CONFLICT (ticket_id) DO UPDATE
           SET document = ticket_search_vector(NEW.key, NEW.title, NEW.description, NEW.requester_name,
                                               NEW.requester_email, s.conversation);
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER ticket_search_ticket AFTER INSERT OR UPDATE ON ticket
       FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket()""",
    """CREATE FUNCTION ticket_search_history() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE
         words text;
       BEGIN
         IF current_setting('triageboard.defer_search', true) = 'on' THEN
           RETURN NULL;
         END IF;
         BEGIN
           words := coalesce(NEW.detail::json ->> 'text', NEW.detail::json ->> 'body', '');
         EXCEPTION WHEN others THEN
           RETURN NULL;  -- detail that is not JSON has no words to index
         END;
         UPDATE ticket_search AS s
         SET conversation = s.conversation || E'\\n' || words,
             document = ticket_search_vector(t.key, t.title, t.description, t.requester_name, t.requester_email,
                                             s.conversation || E'\\n' || words)
         FROM ticket AS t
         WHERE s.ticket_id = NEW.ticket_id AND t.id = NEW.ticket_id;
         RETURN NULL;
       END $$""",
    f"""CREATE TRIGGER ticket_search_history AFTER INSERT ON history
        FOR EACH ROW WHEN (NEW.kind IN ({_KINDS})) EXECUTE FUNCTION ticket_search_history()""",
    f"""INSERT INTO ticket_search (ticket_id, conversation, document)
        SELECT t.id, c.words,
               ticket_search_vector(t.key, t.title, t.description, t.requester_name, t.requester_email, c.words)
        FROM ticket AS t
        CROSS JOIN LATERAL (
          SELECT coalesce(string_agg(coalesce(h.detail::json ->> 'text', h.detail::json ->> 'body', ''),
                                     E'\\n' ORDER BY h.id), '') AS words
          FROM history AS h
          WHERE h.ticket_id = t.id AND h.kind IN ({_KINDS}) AND left(h.detail, 1) = '{{'
        ) AS c""",
]


def up(migrator, db):
    for statement in SQLITE if isinstance(db, SqliteDatabase) else POSTGRESQL:
        db.execute_sql(statement)


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        for name in ("insert", "update", "delete", "conversation"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS ticket_search_{name}")
        db.execute_sql("DROP TABLE IF EXISTS search_deferred")
        db.execute_sql("DROP TABLE IF EXISTS ticket_search_vocab")
        db.execute_sql("DROP TABLE IF EXISTS ticket_search")
        return
    db.execute_sql("DROP TRIGGER IF EXISTS ticket_search_history ON history")
    db.execute_sql("DROP TRIGGER IF EXISTS ticket_search_ticket ON ticket")
    db.execute_sql("DROP FUNCTION IF EXISTS ticket_search_history(), ticket_search_ticket(), "
                   "ticket_search_vector(text, text, text, text, text, text)")
    db.execute_sql("DROP TABLE IF EXISTS ticket_search")
