"""The filter language's tree (`app.board.query`) as one Peewee condition over `Ticket`.

`where(query, context)` gives an expression the board's page, count and
position queries AND into their own (`data.board_queries`, `where=`), and that
`ticket list --query` ANDs into its list; nothing here loads tickets. Free
text goes to the full-text index of migration 0009 (`ticket_search`: FTS5 on
SQLite, a tsvector under GIN on PostgreSQL) as one subquery for all the
words a query asks for and one for those it excludes; every other term is a
plain column condition.

data/ knows nothing of the app, so the tree is read by the `TERM` tag each of
its node classes carries, and what only the app knows (where "stale" starts,
which tickets are at risk, the board's time zone) comes in the `SearchContext`.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import msgspec
from peewee import SQL, NodeList, fn

from data.db import is_sqlite
from data.models import Ticket, database_proxy
from data.sla_due import condition
from data.triage import untriaged_condition

WORD = re.compile(r"[^\W_]+")
"""A searchable word: a run of letters and digits, as FTS5's unicode61 tokenizer and migration 0009's
PostgreSQL text both cut them; anything else in the query (quotes, brackets, operators) is a separator."""

NOTHING = SQL("1 = 0")
"""A condition no ticket meets (is:stale on a board with no stale rule, is:at-risk with none at risk)."""


class SearchContext(msgspec.Struct):
    """What a query's terms mean on this board, given by the app (data/ knows no rule)."""

    initial: str
    """The first column: `is:untriaged` is a ticket there with triage to do."""
    final: str
    """The last column: finished work is never stale."""
    tz: dt.tzinfo = dt.timezone.utc
    """The board's time zone: `created:2026-11-01` is that day there."""
    stale_before: Callable[[], dt.datetime | None] = lambda: None
    """`is:stale`: a card that entered its column before this instant (app.board.stale.stale_cutoff); None: no rule."""
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    """The clock `is:at-risk` compares the stored due instants with (see `at_risk`)."""


def is_postgresql() -> bool:
    return not is_sqlite(database_proxy.obj)


FEW = 60_000
"""At most this many tickets match the words: their ids (read once until the next write) are written
into the query, so each page probes a list instead of running the full-text query again, and a column
holding few of them is not walked for them (a ticket number, a rare word, two common words)."""
DENSE = 0.05
"""From this share of all tickets up, a page probes the index for each card of the column's order
instead (a common word: 32 cards are found in the first few hundred), and never reads every match."""
EXPANSION = 16
"""A prefix being typed stands for at most this many indexed words; beyond, FTS5's own prefix query."""
MIN_PREFIX = 3
"""A word being typed is a prefix from this many letters: "l" would stand for half the vocabulary."""
_remembered: dict[tuple, tuple[int | None, object]] = {}


def where(query, context: SearchContext, *, paging: bool = False):
    """The condition every term of `query` holds for (None: an empty query, every ticket).

    `paging`: for one page of a column in board order (`LIMIT`), where a
    common word is best tested card by card; a count or a list reads every
    match instead.
    """
    condition = None
    included = [term for term in query.terms if term.TERM == "text" and not term.negated]
    excluded = [term for term in query.terms if term.TERM == "text" and term.negated]
    parts = [text_condition(included, excluded, paging=paging)]
    for term in query.terms:
        if term.TERM != "text":
            part = _term(term, context)
            parts.append(~part if term.negated else part)
    for part in parts:
        if part is not None:
            condition = part if condition is None else (condition & part)
    return condition


def text_condition(included: Iterable, excluded: Iterable = (), *, paging: bool = False):
    """Tickets whose words match every term of `included` and none of `excluded`; None: no words asked for.

    One full-text query for them all (`a AND b NOT (c OR d)`), so the index
    is read once, whatever the number of words.
    """
    wanted, unwanted = _phrases(included), _phrases(excluded)
    if not wanted and not unwanted:
        return None
    if is_postgresql():
        # Each word is letters and digits only (WORD), so the tsquery text cannot carry an operator.
        def tsquery(phrases, glue):
            return glue.join("(" + " <-> ".join(words[:-1] + [words[-1] + (":*" if prefix else "")]) + ")"
                             for words, prefix in phrases)

        expression = tsquery(wanted or unwanted, " & " if wanted else " | ")
        if wanted and unwanted:
            expression = f"({expression}) & !({tsquery(unwanted, ' | ')})"
        found = Ticket.id.in_(SQL("(SELECT ticket_id FROM ticket_search WHERE document @@ to_tsquery('simple', %s))",
                                  [expression]))
        return found if wanted else ~found
    wanted_match, costly = _fts5_match(wanted, " AND ")
    unwanted_match, costly_too = _fts5_match(unwanted, " OR ")
    if wanted and unwanted:
        return _fts5(f"({wanted_match}) NOT ({unwanted_match})", paging and not (costly or costly_too), False)
    if wanted:
        return _fts5(wanted_match, paging and not costly, False)
    return _fts5(unwanted_match, paging and not costly_too, True)


def _phrases(terms: Iterable) -> list[tuple[list[str], bool]]:
    """Each term's words, and whether its last is a prefix (from `MIN_PREFIX` letters); wordless terms dropped."""
    return [(words, term.prefix and len(words[-1]) >= MIN_PREFIX)
            for term in terms if (words := WORD.findall(term.text.casefold()))]


def _fts5_match(phrases, glue: str) -> tuple[str, bool]:
    """The FTS5 query for these phrases, and whether it holds a prefix FTS5 must expand itself (slow to probe).

    A double-quoted string is a phrase of those words in order; `*` after it makes its last word a prefix.
    """
    parts = []
    costly = False
    for words, prefix in phrases:
        expanded = _expanded(words[0]) if prefix and len(words) == 1 else None
        if expanded is not None:
            parts.append("(" + " OR ".join(f'"{term}"' for term in expanded) + ")" if expanded else f'"{words[0]}"')
        else:
            parts.append('"' + " ".join(words) + '"' + ("*" if prefix else ""))
            costly = costly or prefix
    return glue.join(parts), costly


def _expanded(prefix: str) -> list[str] | None:
    """The indexed words starting with `prefix` (at most `EXPANSION`; None: more), from the index's vocabulary.

    FTS5 answers `"logi"*` by merging the lists of every word so starting, for
    each card a page probes; naming the few words (usually one, "login") makes
    that probe as cheap as a whole word's.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)

    def read() -> list[str] | None:
        terms = [term for (term,) in database_proxy.execute_sql(
            "SELECT term FROM ticket_search_vocab WHERE term >= ? AND term < ? LIMIT ?",
            (prefix, upper, EXPANSION + 1))]
        return terms if len(terms) <= EXPANSION else None

    return _until_next_write(("prefix", prefix), read)


def _fts5(match: str, paging: bool, negated: bool):
    """`match` on SQLite, in the plan its number of matches calls for (SQLite has no statistics for FTS5)."""
    hits, ids = _matches(match)
    if ids is not None:
        if not ids:
            return None if negated else NOTHING
        # Integers read from the index, written into the SQL: Peewee binding 8,000 parameters took
        # 45 ms, the query itself 5.
        listed = SQL(ids)
        return Ticket.id.not_in(listed) if negated else Ticket.id.in_(listed)
    if paging and hits >= DENSE * _tickets():
        probe = NodeList((SQL("EXISTS (SELECT 1 FROM ticket_search WHERE ticket_search MATCH ? AND "
                              "ticket_search.rowid =", [match]), Ticket.id, SQL(")")))
        return ~probe if negated else probe
    found = Ticket.id.in_(SQL("(SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)", [match]))
    return ~found if negated else found


def _matches(match: str) -> tuple[int, str | None]:
    """How many tickets `match` finds, and their ids as an SQL list `(1,2,3)` when there are at most `FEW`.

    Remembered until the next write (every write appends a history row): a
    board filtering six columns, then paging and counting them, reads the
    index once, not once per query.
    """
    def read() -> tuple[int, str | None]:
        ids = [int(rowid) for (rowid,) in database_proxy.execute_sql(
            "SELECT rowid FROM ticket_search WHERE ticket_search MATCH ? LIMIT ?", (match, FEW + 1))]
        if len(ids) <= FEW:
            return len(ids), ("(" + ",".join(map(str, ids)) + ")") if ids else ""
        (count,) = database_proxy.execute_sql("SELECT count(*) FROM ticket_search WHERE ticket_search MATCH ?",
                                              (match,)).fetchone()
        return count, None

    return _until_next_write(("matches", match), read)


def _until_next_write(key: tuple, read: Callable):
    """`read()`, remembered while no write has happened since (the newest history row is the same one)."""
    (newest,) = database_proxy.execute_sql("SELECT max(id) FROM history").fetchone()
    key = (database_proxy.obj.database, *key)  # the file: a process may open another
    known = _remembered.get(key)
    if known is not None and known[0] == newest:
        return known[1]
    value = read()
    if len(_remembered) > 16:  # a list of 60,000 ids is 400 kB
        _remembered.clear()
    _remembered[key] = (newest, value)
    return value


def _tickets() -> int:
    """About how many tickets there are (the highest id: one index step, not a count)."""
    (highest,) = database_proxy.execute_sql("SELECT max(id) FROM ticket").fetchone()
    return highest or 0


def _lowered(column):
    """Never NULL, so a negated term keeps the tickets with no value (-assignee:bob keeps the unassigned)."""
    return fn.LOWER(fn.COALESCE(column, ""))


def _term(term, context: SearchContext):
    kind = term.TERM
    if kind == "match":
        values = [value.casefold() for value in term.values]
        if term.field == "requester":
            found = None
            for value in values:
                one = _lowered(Ticket.requester_name).contains(value) | _lowered(Ticket.requester_email).contains(value)
                found = one if found is None else (found | one)
            return found
        if term.field in ("state", "kind"):
            return getattr(Ticket, term.field).in_(list(term.values))
        if term.field == "assignee":  # as written or lowercased (handles are): the (assignee, state) index serves
            spelled = sorted(set(term.values) | set(values))
            found = Ticket.assignee.in_(spelled)
            return Ticket.assignee.is_null(False) & found  # NOT of it keeps the unassigned
        return _lowered(getattr(Ticket, term.field)).in_(values)
    if kind == "priority":
        return fn.COALESCE(Ticket.priority, 0).in_(list(term.levels))
    if kind == "dates":
        column = getattr(Ticket, term.field)
        found = None
        for day, compare in ((term.start, column.__ge__), (term.end, column.__lt__)):
            if day is not None:
                part = compare(_utc(day, context.tz))
                found = part if found is None else (found & part)
        return found
    if kind == "flag":
        return _flag(term.name, context)
    raise ValueError(f"unknown query term {term!r}")


def _flag(name: str, context: SearchContext):
    if name == "stale":
        cutoff = context.stale_before()
        if cutoff is None:
            return NOTHING
        return (Ticket.state_entered < cutoff) & (Ticket.state != context.final)
    if name == "untriaged":
        return untriaged_condition(context.initial)
    if name == "at-risk":
        return at_risk(context)
    if name == "unassigned":
        return _lowered(Ticket.assignee) == ""
    if name == "answered":
        return Ticket.answered == True  # noqa: E712 (a Peewee expression, not a comparison)
    raise ValueError(f"unknown flag {name!r}")


def at_risk(context: SearchContext):
    """`is:at-risk`, in one place: a card in warning or breached, by the stored due instants (migration
    0008, kept by the write path), so it is the same answer as `ticket list --sla at-risk` and the board's
    at-risk view, and an index range rather than a walk over every open ticket's clock."""
    return condition("at-risk", context.now())


_INSERT_TRIGGERS = ("ticket_search_insert", "ticket_search_conversation")
"""SQLite's triggers of migration 0009 that index a new ticket and a new reply or note."""
_CONVERSATION = "('reply', 'note', 'comment')"
"""The history kinds whose words are indexed (migration 0009's CONVERSATION_KINDS)."""

_INDEX_SQLITE = f"""
    INSERT INTO ticket_search (rowid, key, title, description, requester, conversation)
    SELECT t.id, t.key, t.title, t.description,
           coalesce(t.requester_name, '') || ' ' || coalesce(t.requester_email, ''),
           coalesce((SELECT group_concat(coalesce(json_extract(h.detail, '$.text'),
                                                  json_extract(h.detail, '$.body'), ''), char(10))
                     FROM history AS h
                     WHERE h.ticket_id = t.id AND h.kind IN {_CONVERSATION} AND json_valid(h.detail)), '')
    FROM ticket AS t WHERE t.id IN ({{touched}})"""

_INDEX_POSTGRESQL = f"""
    INSERT INTO ticket_search AS s (ticket_id, conversation, document)
    SELECT t.id, c.words,
           ticket_search_vector(t.key, t.title, t.description, t.requester_name, t.requester_email, c.words)
    FROM ticket AS t
    CROSS JOIN LATERAL (
      SELECT coalesce(string_agg(coalesce(h.detail::json ->> 'text', h.detail::json ->> 'body', ''),
                                 E'\\n' ORDER BY h.id), '') AS words
      FROM history AS h
      WHERE h.ticket_id = t.id AND h.kind IN {_CONVERSATION} AND left(h.detail, 1) = '{{{{'
    ) AS c
    WHERE t.id IN ({{touched}})
    ON CONFLICT (ticket_id) DO UPDATE SET conversation = excluded.conversation, document = excluded.document"""


@contextmanager
def deferred_indexing() -> Iterator[None]:
    """One transaction of bulk inserts (an import, a seed) whose tickets are indexed in one statement at its end.

    The triggers of migration 0009 index a ticket per row, five times the
    cost of one `INSERT … SELECT` over them all; inside this block they stand
    aside (SQLite: the two insert triggers dropped in this transaction,
    `data.bulk.triggers_aside`, which also spares every row the trigger's
    test of the `search_deferred` flag; PostgreSQL: a `SET LOCAL` the
    triggers read), and on the way out every ticket added, or given a reply
    or note, since it began is indexed. Other sessions never see them aside.
    """
    from data.bulk import triggers_aside  # the batch paths' module, not loaded by the board

    db = database_proxy.obj
    sqlite = is_sqlite(db)
    with db.atomic():
        (tickets_before,) = db.execute_sql("SELECT coalesce(max(id), 0) FROM ticket").fetchone()
        (history_before,) = db.execute_sql("SELECT coalesce(max(id), 0) FROM history").fetchone()
        if not sqlite:
            db.execute_sql("SET LOCAL triageboard.defer_search = 'on'")
        with triggers_aside(*_INSERT_TRIGGERS):
            yield
        if not sqlite:
            db.execute_sql("SET LOCAL triageboard.defer_search = 'off'")
        param = "?" if sqlite else "%s"
        touched = (f"SELECT id FROM ticket WHERE id > {param} UNION SELECT ticket_id FROM history "
                   f"WHERE id > {param} AND kind IN {_CONVERSATION}")
        if sqlite:  # a new ticket has no entry yet (its trigger was aside); an older one given a note has one
            db.execute_sql(f"DELETE FROM ticket_search WHERE rowid IN (SELECT ticket_id FROM history WHERE id > ? "
                           f"AND kind IN {_CONVERSATION} AND ticket_id <= ?)", (history_before, tickets_before))
        db.execute_sql((_INDEX_SQLITE if sqlite else _INDEX_POSTGRESQL).format(touched=touched),
                       (tickets_before, history_before))
        _remembered.clear()  # read inside the block, before these rows were indexed


def matching_ids(ticket_ids: list[int], condition) -> list[int]:
    """Which of these tickets meet `condition`: one query (the board's at-risk view under a `/` query)."""
    if not ticket_ids:
        return []
    query = Ticket.select(Ticket.id).where(Ticket.id.in_(ticket_ids))
    if condition is not None:
        query = query.where(condition)
    return [ticket_id for (ticket_id,) in query.tuples()]


def _utc(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight starting `day` on the board's clock, as the naive UTC the database keeps."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


__all__ = ["NOTHING", "SearchContext", "WORD", "at_risk", "deferred_indexing", "matching_ids", "text_condition", "where"]
