"""The adapter between the board's queries and the column widgets.

`data.board_queries` returns plain rows; the columns want `widgets.Card`
values with the support status already derived. This is the one place the
two meet, so the widgets never import `data/` and the queries never learn a
rule of the workflow.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future
from typing import Callable, Sequence

import msgspec

from app.sla.countdown import AtRisk, CardSla, RiskEntry, RiskOrder, SlaLabels, card_sla_of, risk_entry
from app.config.settings import Config
from app.board.stale import stale_cutoff as cutoff_at
from app.board.ordering import priority_label
from app.board.workflow import Workflow, support_status
from data import board_queries
from data.triage import triage_incomplete, untriaged_count
from data.board_queries import CardRow, Order
from data.models import utcnow
from widgets.card import Card


class BoardSource(msgspec.Struct):
    """Pages of cards for every column, under the board's current filter and orders."""

    workflow: Workflow
    text_filter: str = ""
    """The `/` query, in the filter language (`app.board.query`): free words through the full-text index,
    `field:value` terms, `-` to negate. Checked before it is set here; "" shows every card."""
    orders: dict[str, Order] = msgspec.field(default_factory=dict)
    """Per column: "priority" (Mattermost's priority of work, the default) or "rank" (manual)."""
    stale_rule: Callable[[dt.datetime], dt.datetime] | None = None
    """`report.stale_after` as "entered at" -> "stale from" (app.board.stale.stale_rule); None: no marks."""
    clock: Callable[[], dt.datetime] = utcnow
    stale_only: bool = False
    """The stale filter: only cards past the threshold (never the final column's)."""
    paging: Callable[[Sequence[CardRow]], dict[str, tuple[str, tuple[str, ...]]]] | None = None
    """Who is paged now for a page of rows, in one query (`Service.paging_now_for`); None: no page marks."""
    untriaged_only: bool = False
    """The untriaged filter: only first-column cards with triage to do (every other column is empty)."""
    sla: Config | None = None
    """The config whose `sla:` section the cards count down to; None: cards show no countdown."""
    sla_labels: SlaLabels = msgspec.field(default_factory=SlaLabels)
    """Countdowns computed by the screen's workers (`evaluate_sla`), read while painting."""
    at_risk: AtRisk = msgspec.field(default_factory=AtRisk)
    """The at-risk snapshot (app.sla.countdown): header counts and the at-risk view."""
    at_risk_only: bool = False
    """The at-risk view: only warning and breached cards, paged from the snapshot in `risk_order`."""
    risk_order: RiskOrder = "priority"
    calendar_loaded: bool = True
    """Whether the business calendar may be used while painting (stale marks). The board starts with
    False and a worker loads it after the first paint (the holidays library is a fifth of a second of
    imports); countdowns wait for it too."""
    _stale_cutoffs: dict[dt.datetime, dt.datetime] = msgspec.field(default_factory=dict)
    """Cache of `stale_cutoff`, shared with copies made by `msgspec.structs.replace`; a field, so it
    takes part in `==` and shows in the repr (msgspec has no per-field switch for either)."""
    _risk_matches: dict[tuple, frozenset[int]] = msgspec.field(default_factory=dict)
    """Cache: which at-risk cards the `/` query matches, per query, snapshot and minute."""
    first_counts: Future[dict[str, int]] | None = None
    """The unfiltered counts being read as the board opens (`board_queries.start_counting`): the first
    `counts()` takes them instead of counting again."""

    def stale_cutoff(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """Cards that entered their column before this are stale; None: the board marks none.

        One bisection over the business calendar per minute of the clock,
        shared by every card painted in that minute: a card's "stale" is then
        a comparison, not a working-days sum (64 of those per page read).
        """
        if self.stale_rule is None:
            return None
        minute = (now or self.clock()).replace(second=0, microsecond=0)
        cutoff = self._stale_cutoffs.get(minute)
        if cutoff is None:
            self._stale_cutoffs.clear()
            cutoff = self._stale_cutoffs[minute] = cutoff_at(minute, self.stale_rule)
        return cutoff

    def _entered_before(self) -> dt.datetime | None:
        return self.stale_cutoff() if self.stale_only else None

    def _hidden(self, state: str) -> bool:
        """Under the stale filter the final column is empty: finished work is never stuck."""
        return ((self.stale_only and state == self.workflow.final)
                or (self.untriaged_only and state != self.workflow.initial))

    def _where(self, paging: bool = False):
        """The untriaged view's condition and the `/` query's (`app.board.query`), ANDed; `paging`: for one
        page of a column (a common word is then tested card by card, `data.search.DENSE`)."""
        untriaged = triage_incomplete() if self.untriaged_only else None
        searched = self.search_condition(paging)
        if untriaged is None or searched is None:
            return searched if untriaged is None else untriaged
        return untriaged & searched

    def search_condition(self, paging: bool = False):
        """The `/` query as a condition (None: no query). A bad query raises `QueryError`: the board
        checks the text with `app.board.query.parse` before it sets `text_filter`."""
        if not self.text_filter.strip():
            return None
        from app.board.filtering import search_where  # lark: imported by the first query, not by the board's start

        return search_where(self.text_filter, self.workflow, typing=True,
                            tz=self.sla.board.tz if self.sla is not None else dt.timezone.utc,
                            stale_before=self._stale_before, now=self.clock, paging=paging)

    def _stale_before(self) -> dt.datetime | None:
        """`is:stale`: the cards the board marks stale (the calendar is loaded here if the first paint has not)."""
        return self.stale_cutoff()

    def order_of(self, state: str) -> Order:
        return self.orders.get(state, "priority")

    def card(self, row: CardRow, now: dt.datetime | None = None,
             paging: tuple[str, tuple[str, ...]] = ("", ())) -> Card:
        cutoff = self.stale_cutoff(now) if self.calendar_loaded else None
        stale = (cutoff is not None and row.state_entered is not None and row.state != self.workflow.final
                 and row.state_entered < cutoff)
        return Card(id=row.id, key=row.key, title=row.title, priority=priority_label(row.priority),
                    assignee=row.assignee or "", state=row.state, version=row.version,
                    status=support_status(self.workflow, row.state, row.hold_reason, row.solved), stale=stale,
                    default_status=support_status(self.workflow, row.state),
                    needs_ack=bool(row.needs_ack) and row.ack_at is None, paged=paging[1], paged_rotation=paging[0],
                    answered=bool(row.answered),
                    **self._sla_fields(row))

    def _sla_fields(self, row: CardRow) -> dict[str, str]:
        """The card's countdown if a worker has computed it for this version (else it is asked for)."""
        if self.sla is None or row.state == self.workflow.final:
            return {}
        entry = self.sla_labels.get(row.id, row.version)
        return {} if entry is None else {"sla_label": entry.label, "sla_style": entry.style}

    def _risk_column(self, state: str):
        """The at-risk view's cards of a column, under the `/` query (matched in one query per snapshot)."""
        entries = self.at_risk.column(state, "", self.risk_order)
        if not self.text_filter.strip():
            return entries
        matching = self._risk_matching()
        return [entry for entry in entries if entry.id in matching]

    def _risk_matching(self) -> frozenset[int]:
        minute = self.clock().replace(second=0, microsecond=0)
        key = (self.text_filter, self.at_risk.at, len(self.at_risk.entries), minute)
        found = self._risk_matches.get(key)
        if found is None:
            from data.search import matching_ids

            self._risk_matches.clear()
            found = self._risk_matches[key] = frozenset(matching_ids(list(self.at_risk.entries),
                                                                     self.search_condition()))
        return found

    def page(self, state: str, offset: int, limit: int) -> list[Card]:
        if self._hidden(state):
            return []
        if self.at_risk_only:
            entries = self._risk_column(state)[max(0, offset):max(0, offset) + limit]
            found = board_queries.rows_by_id([entry.id for entry in entries])
            now = self.clock()
            return [self.card(found[entry.id], now) for entry in entries if entry.id in found]
        rows = board_queries.column_page(state, offset, limit, self.order_of(state), None, self._entered_before(),
                                         self._where(paging=True))
        now = self.clock()
        paging = self.paging(rows) if self.paging is not None else {}  # no query unless a card waits for an ack
        return [self.card(row, now, paging.get(row.key, ("", ()))) for row in rows]

    def counts(self) -> dict[str, int]:
        """Cards per column under the filter: one grouped query; absent columns are 0."""
        if self.at_risk_only:
            return {key: len(self._risk_column(key)) for key in self.workflow.keys}
        first, self.first_counts = self.first_counts, None
        if first is not None and not (self.text_filter or self.stale_only or self.untriaged_only):
            found = first.result()
        elif self.untriaged_only and not (self.text_filter or self.stale_only):
            found = {self.workflow.initial: untriaged_count(self.workflow.initial)}  # the counts table's row
        else:
            found = board_queries.column_counts(None, self._entered_before(), self._where())
        return {key: 0 if self._hidden(key) else found.get(key, 0) for key in self.workflow.keys}

    @property
    def filtered(self) -> bool:
        """A filter or view hides some cards: the headers show the whole counts beside those in view."""
        return bool(self.text_filter or self.stale_only or self.untriaged_only or self.at_risk_only)

    def totals(self) -> dict[str, int]:
        """Cards per column, whatever the filters: what the WIP limits count. One grouped query."""
        found = board_queries.column_counts()
        return {key: found.get(key, 0) for key in self.workflow.keys}

    def position_of(self, state: str, ticket_id: int) -> int | None:
        if self._hidden(state):
            return None
        if self.at_risk_only:
            return next((i for i, entry in enumerate(self._risk_column(state)) if entry.id == ticket_id), None)
        return board_queries.position_of(state, ticket_id, self.order_of(state), None, self._entered_before(),
                                         self._where())

    def untriaged_count(self) -> int:
        """First-column tickets with triage to do, whatever the board's filters (the header's figure)."""
        return untriaged_count(self.workflow.initial)

    # -- response targets (called from the screen's thread workers) --------

    def where_are(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """Each ticket's column and version now: one query."""
        return board_queries.states_of(list(ticket_ids))

    def evaluate_sla(self, ticket_ids: Sequence[int], now: dt.datetime | None = None
                     ) -> tuple[dict[int, CardSla], list[RiskEntry], list[int]]:
        """Countdowns for these cards (stored in `sla_labels`), and how they change the at-risk snapshot.

        Four queries for the lot (the rows, then `statuses`' three). Returns
        (labels, entries at risk, ids no longer at risk).
        """
        if self.sla is None:
            return {}, [], []
        from app.sla.source import statuses  # the response-target engine: imported by the first worker to ask

        now = now or self.clock()
        rows = board_queries.rows_by_id(list(ticket_ids))
        found = statuses(self.sla, [tid for tid, row in rows.items() if row.state != self.workflow.final], now)
        labels: dict[int, CardSla] = {}
        risky: list[RiskEntry] = []
        gone: list[int] = []
        for ticket_id in ticket_ids:
            row, status = rows.get(ticket_id), found.get(ticket_id)
            entry = None
            if row is not None and status is not None:
                labels[ticket_id] = card_sla_of(status, row.version, at=now)
                entry = risk_entry(row.id, row.state, row.key, row.title, row.assignee, row.priority, status)
            if entry is None:
                gone.append(ticket_id)
            else:
                risky.append(entry)
        self.sla_labels.put(labels)
        return labels, risky, gone

    def clock_unchanged(self, source: str, target: str) -> bool:
        """True when a move from `source` to `target` leaves a card's response clocks as they were.

        Only a hold column (Pending pauses the clocks) and the final column
        (Closed stops them) change them; between any other two the countdown
        carries over to the card's new version without being recomputed.
        """
        changing = {self.workflow.final} | {c.key for c in self.workflow.columns if c.is_hold}
        return source not in changing and target not in changing

    def at_risk_snapshot(self, now: dt.datetime | None = None, cancelled: Callable[[], bool] = lambda: False,
                         busy: Callable[[], bool] = lambda: False) -> AtRisk | None:
        """Every open card at risk, from the stored due instants (`data.sla_due`): one indexed query.

        Its cost is the cards at risk, not the board. `left` (the view's sort by
        time left) is the working time between now and the stored due instant,
        so the order is that of the due instants. When the stored instants are of
        another `sla:` config and too many to recompute here (`due_freshness`),
        the snapshot carries the line saying so. Returns None if `cancelled()` turns true.
        """
        if self.sla is None:
            return AtRisk(at=now or self.clock())
        from app.sla.source import due_freshness
        from data.sla_due import at_risk_rows

        now = now or self.clock()
        while busy() and not cancelled():
            time.sleep(0.05)
        snapshot = AtRisk(at=now, note=due_freshness(self.sla, now))
        calendar = self.sla.sla.calendar
        moment = now.replace(tzinfo=dt.timezone.utc)
        for number, (ticket_id, state, key, title, assignee, priority, _, due) in enumerate(
                at_risk_rows(now, self.workflow.final), 1):
            due_at = due.replace(tzinfo=dt.timezone.utc)
            left = calendar.working_time_between(moment, due_at)  # negative once overdue
            snapshot.entries[ticket_id] = RiskEntry(
                id=ticket_id, state=state, key=key, title=title, assignee=assignee or "", priority=priority,
                sla_state="breached" if due < now else "warning", left=left.total_seconds())
            if number % 500 == 0 and cancelled():
                return None
        return snapshot
