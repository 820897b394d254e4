"""Paging: the escalation steps sent to whoever is on call until someone acknowledges the ticket."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterable

from app.notify import drafts as outbox
from app.oncall.escalation import ack_timeout_at, due_steps, next_due_at
from app.board.ordering import priority_label
from app.service.core import WritePath
from app.service.errors import Conflict, Refused
from app.service.results import Page
from data.models import History, Ticket


class Paging(WritePath):
    """Acknowledging a page, sending the escalation steps that fell due, and who is being paged now.

    A sent step is a History row of kind "page" (detail: step, rotation, paged,
    due_at, round); those rows are what make sending idempotent and what the board's
    "paging" mark reads. An acknowledgement that times out (`escalation_ack_timeout`)
    starts a new round: the acknowledger is paged again in the first step's place and
    the later steps follow from that instant; only the current round's steps count as sent.
    """

    def acknowledge(self, key: str, *, by: str, expected_version: int | None = None) -> Ticket:
        """`by` takes the page: the escalation stops, and the ticket says who has it.

        `needs_ack` stays true (the ticket was a page); `ack_at` set is what
        "acknowledged" means. Refused when nothing was paged or someone already
        acknowledged it, naming them, so two people never think they both hold it.
        """
        by = (by or "").strip()
        if self.config.member(by) is None:
            raise Refused(f"unknown team member {by!r} (team: {', '.join(self.config.handles)})")

        def work() -> Ticket:
            ticket = self._fetch_for_write(key, expected_version)
            if not ticket.needs_ack:
                raise Refused(f"{ticket.key} does not need acknowledging (nothing was paged)")
            if ticket.ack_at is not None:
                at = ticket.ack_at.replace(tzinfo=dt.timezone.utc).astimezone(self.config.board.tz)
                raise Refused(f"{ticket.key} was already acknowledged by {ticket.ack_by or 'someone'} "
                              f"at {at:%Y-%m-%d %H:%M %Z}")
            now = self.clock()
            paged = self._last_pages([ticket.id]).get(ticket.id, ())
            self._save(ticket, {"ack_at": now, "ack_by": by}, expected_version, now)
            self._record(ticket, "ack", by, now, reason="acknowledged",
                         detail={"paged": list(paged)} if paged else None)
            return ticket

        return self._write(work)

    def escalate_due(self, now: dt.datetime | None = None) -> list[Page]:
        """Send every escalation step that is due at `now` (default: the clock); idempotent.

        A step already recorded (a History row of kind "page" with its index)
        is never sent again, so a second run at the same instant pages nobody.
        Each ticket's steps are written in one transaction: the History rows,
        one notification per paged person, and a version bump. Two `escalate`
        processes at once are safe: the transaction re-reads the ticket and its
        pages before writing, and the version guard makes the slower one give
        up that ticket (SQLite also queues the writers).
        """
        now = _naive_utc(now) if now is not None else self.clock()
        waiting = list(Ticket.select().where(Ticket.needs_ack & Ticket.ack_at.is_null()).order_by(Ticket.id))
        sent = self._sent_steps([t.id for t in waiting])
        pages: list[Page] = []
        for ticket in self._forgotten():
            due = self._ack_timeout_at(ticket)
            if due is not None and due <= now:
                try:
                    pages.extend(self._repage(ticket.id, now))
                except Conflict:
                    continue
        for ticket in waiting:
            if self._due(ticket, sent.get(ticket.id, set()), now):
                try:
                    pages.extend(self._page(ticket.id, now))
                except Conflict:
                    continue  # another escalation process sent this ticket's steps just now
        return pages

    def _forgotten(self) -> list[Ticket]:
        """Acknowledged pages that have not moved since (the write path keeps `state_entered` at the last move)."""
        if self.config.oncall.ack_timeout is None:
            return []
        return list(Ticket.select().where(Ticket.needs_ack & Ticket.ack_at.is_null(False)
                                          & (Ticket.state_entered <= Ticket.ack_at)).order_by(Ticket.id))

    def _ack_timeout_at(self, ticket: Ticket) -> dt.datetime | None:
        moved = ticket.ack_at is None or ticket.state_entered > ticket.ack_at
        due = self._call(ack_timeout_at, self.config.oncall.ack_timeout, _aware(ticket.ack_at) if ticket.ack_at else None,
                         moved, self.add_working)
        return _naive_utc(due) if due is not None else None

    def _repage(self, ticket_id: int, now: dt.datetime) -> list[Page]:
        """Page the acknowledger of a forgotten page again and restart its chain, in one transaction."""
        pages: list[Page] = []

        def work() -> Ticket:
            ticket = Ticket.get_by_id(ticket_id)
            due_at = self._ack_timeout_at(ticket) if ticket.needs_ack else None
            if due_at is None or due_at > now:
                return ticket
            who = ticket.ack_by or ""
            acked = _aware(ticket.ack_at).astimezone(self.config.board.tz)
            round_ = self._rounds([ticket.id]).get(ticket.id, 0) + 1
            label = "acknowledgement timeout"
            self._save(ticket, {"ack_at": None, "ack_by": None, "page_started": due_at}, ticket.version, now)
            self._record(ticket, "page", "", now,
                         reason=f"acknowledged by {who or 'someone'} at {acked:%Y-%m-%d %H:%M %Z} and not moved "
                                f"since: paged {who or 'nobody'} again",
                         detail={"step": 0, "rotation": label, "paged": [who] if who else [],
                                 "due_at": due_at.isoformat(), "round": round_})
            member = self.config.member(who) if who else None
            if member is not None:
                self._notify(ticket, outbox.escalation_page(
                    key=ticket.key, title=ticket.title, recipient=member.email, name=member.name, handle=who,
                    step=f"{label} (you acknowledged it at {acked:%Y-%m-%d %H:%M %Z})",
                    priority=priority_label(ticket.priority), since=f"{acked:%Y-%m-%d %H:%M %Z}",
                    **self.mail_options))
            pages.append(Page(ticket.key, 0, label, (who,) if who else (), due_at, now))
            return ticket

        self._write(work)
        return pages

    def next_escalation_at(self) -> dt.datetime | None:
        """When the next step of any waiting ticket falls due (naive UTC), or None.

        Lets a running `escalate` sleep until there is something to do; new
        pages arriving meanwhile are caught by its poll interval.
        """
        waiting = list(Ticket.select().where(Ticket.needs_ack & Ticket.ack_at.is_null()))
        sent = self._sent_steps([t.id for t in waiting])
        times = [due for t in self._forgotten() if (due := self._ack_timeout_at(t)) is not None]
        for ticket in waiting:
            due = self._call(next_due_at, self.config.oncall, _aware(_paged_at(ticket)), None,
                             sent.get(ticket.id, set()), add_working=self.add_working)
            if due is not None:
                times.append(_naive_utc(due))
        return min(times, default=None)

    def paged_now(self, ticket: Ticket) -> tuple[str, ...]:
        """Who the last page went to, while the ticket is still unacknowledged; () otherwise."""
        return self.paged_now_for([ticket]).get(ticket.key, ())

    def paged_now_for(self, tickets: Iterable[Ticket]) -> dict[str, tuple[str, ...]]:
        """`paged_now` for many cards in one query: {key: handles} for those being paged."""
        waiting = {t.id: t.key for t in tickets if t.needs_ack and t.ack_at is None}
        return {waiting[i]: paged for i, paged in self._last_pages(list(waiting)).items()}

    def paging_now_for(self, tickets: Iterable[Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """`paged_now_for` with the rotation of the step that paged them: {key: (rotation, handles)}.

        One query for a whole page of board cards; anything with `id`, `key`,
        `needs_ack` and `ack_at` will do (the board passes its `CardRow`s).
        """
        waiting = {t.id: t.key for t in tickets if t.needs_ack and t.ack_at is None}
        latest: dict[str, tuple[str, tuple[str, ...]]] = {}
        for ticket_id, detail in self._page_rows(list(waiting)):  # oldest first: the last one wins
            latest[waiting[ticket_id]] = (str(detail.get("rotation", "")), tuple(detail.get("paged", ())))
        return latest

    def _due(self, ticket: Ticket, sent: set[int], now: dt.datetime) -> list:
        return self._call(due_steps, self.config.oncall, _aware(_paged_at(ticket)), None, sent, _aware(now),
                          add_working=self.add_working)

    def _page(self, ticket_id: int, now: dt.datetime) -> list[Page]:
        """Record and notify the due steps of one ticket, in one transaction."""
        pages: list[Page] = []

        def work() -> Ticket:
            ticket = Ticket.get_by_id(ticket_id)
            if not ticket.needs_ack or ticket.ack_at is not None:
                return ticket
            due = self._due(ticket, self._sent_steps([ticket.id]).get(ticket.id, set()), now)
            if not due:
                return ticket
            self._save(ticket, {}, ticket.version, now)  # first: a concurrent escalator waits here, then gives up
            since = _aware(_paged_at(ticket)).astimezone(self.config.board.tz)
            for step in due:
                due_at = _naive_utc(step.due_at)
                round_ = self._rounds([ticket.id]).get(ticket.id, 0)
                self._record(ticket, "page", "", now,
                             reason=f"step {step.step.index + 1} ({step.step.rotation}): paged {', '.join(step.paged) or 'nobody (no one on duty)'}",
                             detail={"step": step.step.index, "rotation": step.step.rotation,
                                     "paged": list(step.paged), "due_at": due_at.isoformat(),
                                     **({"round": round_} if round_ else {})})
                for handle in step.paged:
                    member = self.config.member(handle)
                    self._notify(ticket, outbox.escalation_page(
                        key=ticket.key, title=ticket.title, recipient=member.email if member else "",
                        name=member.name if member else handle, handle=handle, step=step.step.rotation,
                        priority=priority_label(ticket.priority), since=f"{since:%Y-%m-%d %H:%M %Z}",
                        **self.mail_options))
                pages.append(Page(ticket.key, step.step.index, step.step.rotation, step.paged, due_at, now))
            return ticket

        self._write(work)
        return pages

    def _sent_steps(self, ticket_ids: list[int]) -> dict[int, set[int]]:
        """{ticket id: indexes of the escalation steps already sent in its current round}, in one query."""
        sent: dict[int, set[int]] = {}
        rounds: dict[int, int] = {}
        for ticket_id, detail in self._page_rows(ticket_ids):  # oldest first: a new round starts afresh
            round_ = int(detail.get("round", 0))
            if round_ != rounds.get(ticket_id, 0):
                sent[ticket_id] = set()
            rounds[ticket_id] = round_
            sent.setdefault(ticket_id, set()).add(detail["step"])
        return sent

    def _rounds(self, ticket_ids: list[int]) -> dict[int, int]:
        rounds: dict[int, int] = {}
        for ticket_id, detail in self._page_rows(ticket_ids):
            rounds[ticket_id] = max(rounds.get(ticket_id, 0), int(detail.get("round", 0)))
        return rounds

    def _last_pages(self, ticket_ids: list[int]) -> dict[int, tuple[str, ...]]:
        last: dict[int, tuple[str, ...]] = {}
        for ticket_id, detail in self._page_rows(ticket_ids):
            last[ticket_id] = tuple(detail.get("paged", ()))  # rows come oldest first
        return last

    def _page_rows(self, ticket_ids: list[int]) -> Iterable[tuple[int, dict[str, Any]]]:
        if not ticket_ids:
            return []
        rows = (History.select(History.ticket, History.detail)
                .where((History.kind == "page") & History.ticket.in_(ticket_ids))
                .order_by(History.id).tuples())
        return [(ticket_id, json.loads(detail)) for ticket_id, detail in rows if detail]

    @staticmethod
    def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The escalation rules' ValueError (a working-time delay without a calendar) as a refusal."""
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            raise Refused(str(exc)) from None


def _paged_at(ticket: Ticket) -> dt.datetime:
    """When the ticket's page started; a flagged ticket without a start counts from its creation."""
    return ticket.page_started or ticket.created


def _aware(naive_utc: dt.datetime) -> dt.datetime:
    return naive_utc.replace(tzinfo=dt.timezone.utc)


def _naive_utc(instant: dt.datetime) -> dt.datetime:
    """The database's form of an instant: UTC without an offset (a naive value is taken as UTC)."""
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(dt.timezone.utc).replace(tzinfo=None)

