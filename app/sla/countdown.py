"""Response targets on the board: what each card's countdown says, and which cards are at risk.

Two caches, because the two questions cost very different amounts:

- **Card labels** (`SlaLabels`): the visible cards' targets, `app.sla.source.statuses`
  for a page of ids at once (three queries and ~0.2 ms of calendar work a card).
  They are computed in the board's thread workers, never while a column
  paints: a page whose labels are not known yet paints without them and
  asks for them (`missing`), and they appear a moment later. Entries are
  keyed by the card's version, so a move recomputes one card, not the page;
  the screen recomputes the whole cache once a minute so countdowns move on.
- **At risk** (`AtRisk`): warning and breached cards of the whole board, for
  the header counts and the at-risk view. It is read from the due instants
  each ticket stores (`app.sla.due`, one indexed query whose cost is the
  cards at risk), as a snapshot taken by a background worker at start-up
  (after the first paint) and then periodically, patched in between for the
  cards this board moved or heard about. The at-risk view pages, counts and
  sorts from the snapshot in memory: sorting by time left is offered only
  there, since ordering the whole board by it would mean evaluating every card
  on every page fetch.

Pure bookkeeping: no Textual, no SQL (the screen's workers call `sla_source`).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable, Literal

import msgspec

from app.sla.targets import SlaStatus
from app.sla.labels import FILTERS, card_sla

RiskOrder = Literal["time-left", "priority"]


class CardSla(msgspec.Struct, frozen=True):
    """What a card shows: its label and style, and the numbers the at-risk view sorts on."""

    version: int
    label: str
    style: str
    state: str
    """The card's target's state (`SlaStatus.next`): ok | warning | breached | paused | met."""
    left: float
    """Seconds left on that target (negative when overdue)."""
    at: dt.datetime | None = None
    """The moment it was worked out for: a worker that finishes late never replaces a later one's."""


def card_sla_of(status: SlaStatus, version: int, closed: bool = False, at: dt.datetime | None = None) -> CardSla:
    label, style = card_sla(status, closed=closed)
    target = status.next
    return CardSla(version=version, label=label, style=style, state=target.state,
                   left=target.left.total_seconds(), at=at)


def _older(entry: CardSla, held: CardSla | None) -> bool:
    return (held is not None and held.version == entry.version and held.at is not None and entry.at is not None
            and entry.at < held.at)


class SlaLabels:
    """Card id -> `CardSla`, for the cards the board has painted. Written by workers, read while painting."""

    LIMIT = 4096
    """Entries kept: far more than the pages the columns cache; past it, the oldest go."""

    def __init__(self) -> None:
        self._entries: dict[int, CardSla] = {}
        self.missing: set[int] = set()
        """Ids painted without a label: the screen computes them in a worker."""
        self.on_missing: Callable[[], None] | None = None
        """Called (once until `take_missing`) when a painted card had no label: the screen schedules a worker."""
        self._asked = False
        self._current: set[int] = set()
        """Ids whose entry was computed since the last `expire`; the others are shown but recomputed."""

    def get(self, ticket_id: int, version: int) -> CardSla | None:
        """The card's countdown, None if there is none for this version; either way a missing or
        expired one is asked for (an expired one is still shown until its successor arrives)."""
        entry = self._entries.get(ticket_id)
        if entry is None or entry.version != version:
            self._ask(ticket_id)
            return None
        if ticket_id not in self._current:
            self._ask(ticket_id)
        return entry

    def _ask(self, ticket_id: int) -> None:
        self.missing.add(ticket_id)
        if not self._asked and self.on_missing is not None:
            self._asked = True
            self.on_missing()

    def expire(self, recomputing: Iterable[int] = ()) -> None:
        """Time has moved on (the minute timer): every countdown is recomputed when its card is next painted.

        `recomputing` are the cards the screen's columns hold, which a worker
        is recomputing already. This catches the others: a card painted later
        (its page dropped and read again) would otherwise keep the countdown of
        its last computation.
        """
        self._current = set(recomputing)

    def peek(self, ticket_id: int) -> CardSla | None:
        """The entry, whatever its version, without asking for it."""
        return self._entries.get(ticket_id)

    def put(self, entries: dict[int, CardSla]) -> None:
        """Add or replace entries (dict assignments: safe to call from a worker thread).

        Workers overlap (the minute refresh, a card painted without its label), and the one that started
        first may finish last: an entry worked out for an earlier moment than the one held, for the same
        version, is dropped, or a countdown would go back to what it said before the minute.
        """
        held = self._entries
        entries = {ticket_id: entry for ticket_id, entry in entries.items()
                   if not _older(entry, held.get(ticket_id))}
        held.update(entries)
        self._current.update(entries)
        self.missing.difference_update(entries)
        overflow = len(self._entries) - self.LIMIT
        if overflow > 0:
            for ticket_id in list(self._entries)[:overflow]:
                self._entries.pop(ticket_id, None)
                self._current.discard(ticket_id)

    def carry(self, ticket_id: int, version: int) -> bool:
        """Keep a card's countdown across a write that cannot change it (a move between two running columns)."""
        entry = self._entries.get(ticket_id)
        if entry is None:
            return False
        self._entries[ticket_id] = msgspec.structs.replace(entry, version=version)
        return True

    def known(self) -> list[int]:
        return list(self._entries)

    def take_missing(self) -> list[int]:
        ids = list(self.missing)
        self.missing.difference_update(ids)
        self._asked = False
        return ids


class RiskEntry(msgspec.Struct, frozen=True):
    """One warning or breached card in the snapshot (plain text, for the view's text filter)."""

    id: int
    state: str
    key: str
    title: str
    assignee: str
    priority: int | None
    sla_state: str
    left: float


class AtRisk(msgspec.Struct):
    """Every warning or breached open card at `at`; patched as cards change."""

    at: dt.datetime | None = None
    """When the snapshot was taken; None: not taken yet."""
    entries: dict[int, RiskEntry] = msgspec.field(default_factory=dict)
    note: str | None = None
    """One line for the board when the stored due instants are of another `sla:` config (app.sla.source.STALE)."""
    _sorted: dict[tuple, dict[str, list[RiskEntry]]] = msgspec.field(default_factory=dict)
    _counts: dict[str, int] | None = None
    """`_sorted` and `_counts` are caches of `entries` (see `counts`, `patch`, `column`). Being fields,
    `==` compares them and the repr shows them: msgspec has no per-field switch for either."""

    @property
    def ready(self) -> bool:
        return self.at is not None

    def counts(self) -> dict[str, int]:
        """{"warning": n, "breached": m} over the whole board (counted once, then kept up to date by `patch`)."""
        if self._counts is None:
            self._counts = {"warning": 0, "breached": 0}
            for entry in self.entries.values():
                self._counts[entry.sla_state] += 1
        return dict(self._counts)

    def patch(self, entries: Iterable[RiskEntry], gone: Iterable[int]) -> None:
        """Replace the entries of changed cards; `gone`: cards no longer at risk (or closed)."""
        counts = self.counts()
        for ticket_id in gone:
            old = self.entries.pop(ticket_id, None)
            if old is not None:
                counts[old.sla_state] -= 1
        for entry in entries:
            old = self.entries.get(entry.id)
            if old is not None:
                counts[old.sla_state] -= 1
            self.entries[entry.id] = entry
            counts[entry.sla_state] += 1
        self._counts = counts
        self._sorted.clear()

    def column(self, state: str, text_filter: str, order: RiskOrder) -> list[RiskEntry]:
        """The at-risk cards of one column under the text filter, in `order` (sorted once per change)."""
        key = (text_filter.strip().casefold(), order)
        by_state = self._sorted.get(key)
        if by_state is None:
            text = key[0]
            by_state = {}
            for entry in self.entries.values():
                if text and not any(text in value.casefold() for value in (entry.key, entry.title, entry.assignee)):
                    continue
                by_state.setdefault(entry.state, []).append(entry)
            sort = ((lambda e: (e.left, e.id)) if order == "time-left"
                    else (lambda e: (e.priority if e.priority is not None else 9, e.left, e.id)))
            for entries in by_state.values():
                entries.sort(key=sort)
            if len(self._sorted) > 8:
                self._sorted.clear()
            self._sorted[key] = by_state
        return by_state.get(state, [])


AT_RISK = FILTERS["at-risk"]


def risk_entry(ticket_id: int, state: str, key: str, title: str, assignee: str | None, priority: int | None,
               status: SlaStatus) -> RiskEntry | None:
    """The snapshot entry for a card, or None when it is not at risk."""
    target = status.next
    if target.state not in AT_RISK:
        return None
    return RiskEntry(id=ticket_id, state=state, key=key, title=title, assignee=assignee or "",
                     priority=priority, sla_state=target.state, left=target.left.total_seconds())


__all__ = ["AT_RISK", "AtRisk", "CardSla", "RiskEntry", "RiskOrder", "SlaLabels", "card_sla_of", "risk_entry"]
