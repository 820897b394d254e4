"""The filter language of the board's `/` and `ticket list --query`, parsed into a small tree.

    login "blank page" assignee:bob -state:closed priority:P1,P2 created:>=2026-11-01 is:stale

Free words and "quoted phrases" are matched by the full-text index; `field:value`
terms name a column; a leading `-` negates any term; a comma in a value means
either (`priority:P1,P2`). Terms are ANDed. The grammar is lark's (a maintained
parser: the lexer, positions and errors are its job); this module then checks
each term against what the board knows (its states, the kinds, real dates) so a
bad query is refused here, in one line naming the term and what is allowed,
before any SQL is built. Pure: no Peewee, no Textual; `data.search` compiles
the tree for the database, reading each node by its `TERM` tag (data/ may not
import this module).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import ClassVar, Sequence, Union

import msgspec

from app.board.ordering import BUG_CLASSES

KINDS = ("incident", "escalation", "bug", "question", "feature")
"""The ticket kinds (app.config.settings.KINDS; a unit test keeps the two equal, so this module needs no config)."""

FLAGS = ("stale", "untriaged", "at-risk", "unassigned", "answered")
"""`is:` values: the board's own marks and views."""

TEXT_FIELDS = ("assignee", "service", "team", "requester")
"""Fields matched by their text (case-insensitive; `requester` is a substring of the name or address)."""
CHOICE_FIELDS = ("state", "kind", "bug_class", "priority")
"""Fields whose values are a known list, checked here."""
DATE_FIELDS = ("created", "updated")
"""Fields compared with a date: `created:2026-11-01` (that day), `created:>2026-11-01`, `<`, `>=`, `<=`."""
FIELDS = tuple(sorted(TEXT_FIELDS + CHOICE_FIELDS + DATE_FIELDS + ("is",)))
ALIASES = {"bug-class": "bug_class", "bugclass": "bug_class", "status": "state", "column": "state",
           "p": "priority", "prio": "priority"}
OPERATORS = (">=", "<=", ">", "<")


class QueryError(ValueError):
    """A query that cannot be run: the message is one line naming the term and what is allowed."""


class Text(msgspec.Struct, frozen=True):
    """Free text: a word, or a quoted phrase (its words in that order)."""

    TERM: ClassVar[str] = "text"
    text: str
    phrase: bool = False
    negated: bool = False
    prefix: bool = False
    """The query's last bare word, still being typed (`parse(..., typing=True)`): matched as a prefix."""


class Match(msgspec.Struct, frozen=True):
    """`field:value[,value…]`: any of the values (text fields case-insensitively)."""

    TERM: ClassVar[str] = "match"
    field: str
    values: tuple[str, ...]
    negated: bool = False


class Priority(msgspec.Struct, frozen=True):
    TERM: ClassVar[str] = "priority"
    levels: tuple[int, ...]
    """1..4 for P1..P4."""
    negated: bool = False


class DateRange(msgspec.Struct, frozen=True):
    """`created:>2026-11-01`: the board's local days, as a half-open range [start, end) of dates."""

    TERM: ClassVar[str] = "dates"
    field: str
    start: dt.date | None
    """The first day included (None: no lower bound)."""
    end: dt.date | None
    """The first day no longer included (None: no upper bound)."""
    negated: bool = False


class Flag(msgspec.Struct, frozen=True):
    """`is:stale`, `is:untriaged`, `is:at-risk`, `is:unassigned`, `is:answered`."""

    TERM: ClassVar[str] = "flag"
    name: str
    negated: bool = False


Term = Union[Text, Match, Priority, DateRange, Flag]


class Query(msgspec.Struct, frozen=True):
    """Every term must hold (AND); an empty query matches every ticket."""

    terms: tuple[Term, ...] = ()
    source: str = ""

    @property
    def texts(self) -> tuple[Text, ...]:
        return tuple(term for term in self.terms if isinstance(term, Text))

    @property
    def flags(self) -> frozenset[str]:
        """The `is:` flags asked for without negation."""
        return frozenset(term.name for term in self.terms if isinstance(term, Flag) and not term.negated)

    def uses(self, flag: str) -> bool:
        return any(isinstance(term, Flag) and term.name == flag for term in self.terms)


GRAMMAR = r"""
start: term*
term: NEG? (field | PHRASE | WORD)
field: FIELD (PHRASE | VALUE)

NEG: /-(?=[^\s-])/
FIELD.2: /[A-Za-z_][A-Za-z0-9_-]*:/
PHRASE: /"[^"]*"/
WORD: /[^\s"\-][^\s"]*/
VALUE: /[^\s"]+/

%import common.WS
%ignore WS
"""


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark  # 45 ms of imports: paid by the first query, never by the board's start

    # cache=True: the built LALR tables are kept in the temp directory (keyed by the grammar and lark's
    # version), so a `ticket list --query` process loads them instead of building them (64 ms of 0.5 s).
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False, maybe_placeholders=False,
                cache=True)


def parse(text: str, *, states: Sequence[str] = (), typing: bool = False) -> Query:
    """The query `text` as a tree; `QueryError` (one line) when a term is not understood.

    `states` are the workflow's column keys (`state:` is checked against
    them; empty: any). `typing`: the text is being typed (the board's `/`),
    so a last bare word not yet followed by a space is matched as a prefix.
    """
    from lark.exceptions import UnexpectedInput

    text = text or ""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise QueryError(_syntax_message(text, exc)) from None
    terms: list[Term] = []
    for node in tree.children:
        negated = False
        parts = list(node.children)
        if parts and getattr(parts[0], "type", None) == "NEG":
            negated, parts = True, parts[1:]
        (part,) = parts
        if getattr(part, "data", None) == "field":
            name_token, value_token = part.children
            raw = str(value_token)
            quoted = value_token.type == "PHRASE"
            terms.append(_field_term(str(name_token)[:-1], raw[1:-1] if quoted else raw, quoted, negated,
                                     f"{'-' if negated else ''}{name_token}{raw}", states))
        elif part.type == "PHRASE":
            words = part[1:-1].strip()
            if words:
                terms.append(Text(" ".join(words.split()), phrase=True, negated=negated))
        else:
            terms.append(Text(str(part), negated=negated))
    if typing and terms and isinstance(terms[-1], Text) and not terms[-1].phrase and text == text.rstrip():
        terms[-1] = msgspec.structs.replace(terms[-1], prefix=True)
    return Query(tuple(terms), text)


def _syntax_message(text: str, exc) -> str:
    position = getattr(exc, "pos_in_stream", None)  # UnexpectedCharacters: where the lexer stopped
    token = getattr(exc, "token", None)  # UnexpectedToken: the token the grammar did not expect
    if token is not None:
        position = len(text) if token.type == "$END" else token.start_pos
    position = len(text) if position is None else min(position, len(text))
    rest = text[position:]
    if rest.startswith('"'):
        return f"unclosed quote in {_chunk(text, position)} (a phrase is \"two words\", closed by a second \")"
    before = text[:position].rstrip()
    last = before.split()[-1] if before.split() else ""
    if last.endswith(":") and (not rest.strip() or rest[:1].isspace()):
        name = last.lstrip("-")[:-1]
        if ALIASES.get(name.lower(), name.lower()) not in FIELDS:
            return f"unknown field {name!r} in {last} (fields: {', '.join(FIELDS)})"
        return f"{last} needs a value (e.g. {last}{_example(last[:-1])})"
    if last == "-" or rest.startswith("-") or before.endswith("-"):
        return f"a '-' must stand right before the term it negates (e.g. -state:closed), in {_chunk(text, position)}"
    return f"cannot read {_chunk(text, position)!r} (terms are words, \"phrases\", field:value and -term)"


def _chunk(text: str, position: int) -> str:
    """The whitespace-delimited piece of `text` around `position`: the term the user sees."""
    start = text.rfind(" ", 0, position) + 1
    end = text.find(" ", position)
    return text[start:end if end >= 0 else len(text)] or text.strip()


def _example(field: str) -> str:
    return {"state": "on_hold", "priority": "P1", "kind": "bug", "is": "stale", "created": ">2026-11-01",
            "updated": "<2026-11-01", "requester": "ana@example.org", "bug_class": "hotfix"}.get(
        ALIASES.get(field.lower(), field.lower()), "bob")


def _field_term(name: str, value: str, quoted: bool, negated: bool, term: str, states: Sequence[str]) -> Term:
    field = ALIASES.get(name.lower(), name.lower())
    if field not in FIELDS:
        raise QueryError(f"unknown field {name!r} in {term} (fields: {', '.join(FIELDS)})")
    value = value.strip()
    if not value:
        raise QueryError(f"{name}: needs a value (e.g. {name}:{_example(field)})")
    if field in DATE_FIELDS:
        return _date_term(field, value, negated, term)
    if value[:1] in "<>":
        raise QueryError(f"{term}: only dates compare with < and > (created:, updated:)")
    values = (value,) if quoted else tuple(part.strip() for part in value.split(",") if part.strip())
    if not values:
        raise QueryError(f"{name}: needs a value (e.g. {name}:{_example(field)})")
    if field == "is":
        (flag,) = _choices(values, FLAGS, "flag", term, "flags")
        return Flag(flag, negated)
    if field == "priority":
        levels = []
        for one in values:
            level = one.upper().removeprefix("P")
            if level not in ("1", "2", "3", "4"):
                raise QueryError(f"unknown priority {one!r} in {term} (priorities: P1, P2, P3, P4)")
            levels.append(int(level))
        return Priority(tuple(levels), negated)
    if field == "state":
        return Match("state", _choices(values, tuple(states), "state", term, "states"), negated)
    if field == "kind":
        return Match("kind", _choices(values, KINDS, "kind", term, "kinds"), negated)
    if field == "bug_class":
        return Match("bug_class", _choices(values, BUG_CLASSES, "bug class", term, "bug classes"), negated)
    return Match(field, values, negated)


def _choices(values: tuple[str, ...], allowed: tuple[str, ...], what: str, term: str, plural: str) -> tuple[str, ...]:
    """`values` as their allowed spelling (case and -/_ forgiven); an unknown one names the allowed."""
    if not allowed:
        return values
    spelled = {choice.lower().replace("-", "_"): choice for choice in allowed}
    found = []
    for value in values:
        choice = spelled.get(value.lower().replace("-", "_"))
        if choice is None:
            raise QueryError(f"unknown {what} {value!r} in {term} ({plural}: {', '.join(allowed)})")
        found.append(choice)
    if what == "flag" and len(found) > 1:
        raise QueryError(f"{term}: one flag per is: term (is:stale is:untriaged asks for both)")
    return tuple(found)


def _date_term(field: str, value: str, negated: bool, term: str) -> DateRange:
    operator = next((op for op in OPERATORS if value.startswith(op)), "")
    day_text = value[len(operator):].strip()
    try:
        day = dt.date.fromisoformat(day_text)
    except ValueError:
        raise QueryError(f"bad date {day_text!r} in {term} (a date is YYYY-MM-DD, after =, >, <, >= or <=, "
                         f"e.g. {field}:>=2026-11-01)") from None
    after = day + dt.timedelta(days=1)
    start, end = {"": (day, after), ">": (after, None), ">=": (day, None), "<": (None, day),
                  "<=": (None, after)}[operator]
    return DateRange(field, start, end, negated)


__all__ = ["ALIASES", "DATE_FIELDS", "DateRange", "FIELDS", "FLAGS", "Flag", "KINDS", "Match", "Priority", "Query",
           "QueryError", "Term", "Text", "parse"]
