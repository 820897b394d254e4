"""Paging: the escalation steps sent to whoever is on call until someone acknowledges the ticket."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterable

from app.notify import chat
from app.notify import drafts as outbox
from app.oncall.escalation import ack_timeout_at, due_steps, next_due_at
from app.oncall.rotation import next_handoffs, on_duty, shift_index, shift_start, wall_clock
from app.board.ordering import priority_label
from app.service.core import WritePath
from app.service.errors import Conflict, Refused
from app.service.results import Page
from data.models import History, Notification, Ticket

CHAT_LOOKBACK = dt.timedelta(hours=12)
"""How late a handoff, a new P1 or the daily summary is still posted (a notifier that was down catches up);
older ones are left unsaid, since a chat channel wants the news, not the backlog."""


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
            self._chat_page(ticket, round_, 0, label, (who,) if who else (), now)
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
                self._chat_page(ticket, round_, step.step.index, step.step.rotation, step.paged, now)
                pages.append(Page(ticket.key, step.step.index, step.step.rotation, step.paged, due_at, now))
            return ticket

        self._write(work)
        return pages

    # -- chat (`notify.chat`) ---------------------------------------------

    def _chat_page(self, ticket: Ticket, round_: int, step: int, label: str, paged: tuple[str, ...],
                   now: dt.datetime) -> None:
        text = chat.page_text(ticket.key, priority_label(ticket.priority), ticket.title, label, paged)
        for target in self.config.notify.chat_for("pages"):
            self._chat_row(target, "page", chat.post_key("page", ticket.key, round_, step), f"{ticket.key} paged",
                           text, now, ticket)

    def _chat_row(self, target: chat.ChatTarget, kind: str, key: str, subject: str, body: str,
                  now: dt.datetime, ticket: Ticket | None = None) -> bool:
        """One outbox row for a chat target; False when this event's row is already there.

        The Message-ID is the event's key: a second process writing the same
        event inserts nothing (INSERT … ON CONFLICT DO NOTHING on both backends).
        """
        message_id = chat.message_id(key, target, self.config.notify.domain)
        if Notification.select().where(Notification.message_id == message_id).exists():
            return False
        written = (Notification.insert(ticket=ticket, kind=kind, recipient=target.recipient, subject=subject,
                                       body=body, message_id=message_id, created=now, next_attempt=now)
                   .on_conflict_ignore().execute())
        return bool(written)

    def post_chat_due(self, now: dt.datetime | None = None) -> int:
        """Write the chat posts that are due: handoffs, the daily summary, new P1s; how many were written.

        Called by every `notify` and `escalate` round. Each event has one key
        (a handoff: rotation and shift number, plus the instant for a change
        inside a shift), so however many processes call this, each event is
        written once; each event is its own transaction.
        """
        notify = self.config.notify
        if not notify.chat:
            return 0
        now = _naive_utc(now) if now is not None else self.clock()
        written = 0
        for target_kind, rows in (("handoffs", self._handoff_posts), ("summary", self._summary_posts),
                                  ("p1", self._p1_posts)):
            targets = notify.chat_for(target_kind)
            if not targets:
                continue
            for kind, key, subject, body, ticket in rows(now):
                def work(kind=kind, key=key, subject=subject, body=body, ticket=ticket) -> list:
                    nonlocal written
                    for target in targets:
                        written += self._chat_row(target, kind, key, subject, body, now, ticket)
                    return []

                self._write(work)
        return written

    def _handoff_posts(self, now: dt.datetime) -> list[tuple]:
        """The latest change of each rotation within CHAT_LOOKBACK: "Now on call for … until …; next: …"."""
        oncall = self.config.oncall
        instant = _aware(now)
        posts = []
        for rotation in oncall.rotations:
            changes = [h for h in next_handoffs(rotation, oncall.overrides, instant - CHAT_LOOKBACK, 64)
                       if h.at <= instant]
            if not changes:
                continue
            at = changes[-1].at
            k = shift_index(rotation, at)
            upcoming = next_handoffs(rotation, oncall.overrides, at, 1)
            text = chat.handoff_text(rotation.name, on_duty(rotation, oncall.overrides, at),
                                     upcoming[0].at if upcoming else None,
                                     upcoming[0].on_duty if upcoming else (), self.config.board.tz)
            key = chat.post_key("handoff", rotation.name, k, "" if at == shift_start(rotation, k) else at.isoformat())
            posts.append(("handoff", key, f"On call: {rotation.name}", text, None))
        return posts

    def _summary_posts(self, now: dt.datetime) -> list[tuple]:
        """Today's summary once its time has come (each target has its own time)."""
        tz = self.config.board.tz
        instant = _aware(now)
        posts = []
        for target in self.config.notify.chat_for("summary"):
            day = instant.astimezone(tz).date()
            at = wall_clock(day, target.summary_at, tz)
            if not at <= instant < at + CHAT_LOOKBACK:
                continue
            posts.append(("summary", chat.post_key("summary", target.name, day.isoformat()),
                          f"On call and open P1s, {day:%a} {day.day} {day:%b}", self._summary_text(day, at, instant),
                          None))
        return posts

    def _summary_text(self, day: dt.date, at: dt.datetime, instant: dt.datetime) -> str:
        oncall = self.config.oncall
        on_call = [(r.name, on_duty(r, oncall.overrides, at)) for r in oncall.rotations]
        final = self.config.workflow.final
        p1s = [(t.key, t.title) for t in Ticket.select(Ticket.key, Ticket.title)
               .where((Ticket.priority == 1) & (Ticket.state != final)).order_by(Ticket.id)]
        at_risk = []
        if self.config.sla is not None:
            from app.sla.source import open_statuses

            for row, status in open_statuses(self.config, instant):
                target = status.next
                if target.state in ("warning", "breached"):
                    due = target.due.astimezone(self.config.board.tz)
                    what = f"{target.name.replace('_', ' ')} {'was due' if target.state == 'breached' else 'due'} " \
                           f"{chat.when(due, self.config.board.tz)}"
                    at_risk.append((row.key, row.title, what))
        return chat.summary_text(day, on_call, p1s, at_risk)

    def _p1_posts(self, now: dt.datetime) -> list[tuple]:
        """Each P1 raised within CHAT_LOOKBACK, once per ticket."""
        since = now - CHAT_LOOKBACK
        final = self.config.workflow.final
        tickets = Ticket.select().where((Ticket.priority == 1) & (Ticket.state != final)
                                        & ((Ticket.created >= since) | (Ticket.page_started >= since)))
        return [("p1", chat.post_key("p1", t.key), f"New P1 {t.key}", chat.p1_text(t.key, t.title, t.assignee), t)
                for t in tickets.order_by(Ticket.id)]

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

