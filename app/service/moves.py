"""Moving cards: across columns under the workflow's rules, Solved, undo, and up or down within a column."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import fn

from app.notify import drafts as outbox
from app.triage import rules as triage
from app.board.ordering import parse_priority, sort_key
from app.board.workflow import HOLD_REASONS, SOLVED, check_move, default_reason
from app.service.core import WritePath, serialize_column
from app.service.errors import Refused
from app.service.fields import TRIAGE_FIELDS, as_recorded, next_rank, summary
from app.service.results import ChangeResult, MoveResult, WriteResult
from data import outbox as outbox_data
from data import triage as triage_queries
from data.models import History, Ticket

UNDOABLE = ("move", "solve", "triage", "assign")
"""The changes `undo` reverses (the ticket's latest of these, whatever it was)."""


class Moves(WritePath):
    """A card's place on the board: its column (with the requester told the new status), and its rank."""

    # -- moving ----------------------------------------------------------

    def move(self, key: str, target: str, *, by: str = "", reason: str | None = None,
             hold_reason: str | None = None, expected_version: int | None = None) -> MoveResult:
        """Move a card to `target` (a column key, or "solved" after the final column)."""
        target = target.strip().lower().replace(" ", "_")
        if target == "solved":
            return self.solve(key, by=by, expected_version=expected_version)

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            if hold_reason is not None and hold_reason not in HOLD_REASONS:
                raise Refused(f"unknown hold reason {hold_reason!r} (requester or external)")
            # Counting a column of 30,000 cards is the slowest part of a move: only a WIP limit needs it.
            limited = target in self.workflow.keys and self.workflow.column(target).wip_limit is not None
            if limited:
                serialize_column(target)  # before counting: two moves must not both see the last free place
            count = Ticket.select().where(Ticket.state == target).count() if limited else 0
            verdict = check_move(self.workflow, ticket.state, target, hold_reason=hold_reason,
                                 count_in_target=count, triage_missing=self.triage_missing(ticket))
            if not verdict.ok:
                raise Refused(f"{ticket.key}: {'; '.join(verdict.errors)}")
            return self._transition(ticket, target, hold_reason, by,
                                    reason if reason is not None else default_reason(self.workflow, ticket.state, target) or "",
                                    expected_version, warnings=verdict.warnings)

        return self._write(work)

    def triage_missing(self, ticket: Ticket) -> tuple[str, ...]:
        return triage.missing(actionable=ticket.actionable, priority=ticket.priority, acknowledged=ticket.acknowledged,
                              impact=ticket.impact, urgency=self.effective_urgency(ticket))

    def effective_urgency(self, ticket: Ticket) -> str | None:
        """The answered urgency raised by a near event or deadline (see app.triage.rules)."""
        return triage.effective_urgency(ticket.urgency, ticket.deadline, self.today(), self.config.triage)

    def _transition(self, ticket: Ticket, target: str, hold_reason: str | None, by: str, reason: str,
                    expected_version: int | None, *, undoes: int | None = None,
                    warnings: tuple[str, ...] = ()) -> MoveResult:
        now = self.clock()
        before_state, before_hold = ticket.state, ticket.hold_reason
        before = self.status_of(ticket)
        self._save(ticket, {"state": target, "hold_reason": hold_reason, "solved": False,
                            "rank": next_rank(target), "state_entered": now}, expected_version, now)
        after = self.status_of(ticket)
        entry = self._record(ticket, "move", by, now, from_state=before_state, to_state=target,
                             status_before=before, status_after=after, hold_reason=hold_reason,
                             reason=reason, undoes=undoes,
                             detail={"hold_before": before_hold} if before_hold else None)
        self._status_changed(ticket, before, after, reason, now)
        return MoveResult(ticket, entry, warnings)

    def _status_changed(self, ticket: Ticket, before: str, after: str, reason: str, now: dt.datetime) -> None:
        """Tell the requester the new status, once: an undelivered status mail is superseded by this one.

        The requester last saw the status the oldest undelivered mail says the
        ticket left; back there (a move and its undo), nothing is sent at all.
        """
        if before == after or not ticket.requester_email:
            return
        superseded = outbox_data.supersede_status_mails(ticket.id, now)
        if superseded and superseded[0].status_before:
            before = superseded[0].status_before
        draft = outbox.status_change(key=ticket.key, title=ticket.title, requester_email=ticket.requester_email,
                                     requester_name=ticket.requester_name, before=before, after=after,
                                     reason=reason, link=self.requester_link(ticket), **self.mail_options)
        if self._notify(ticket, draft, status_before=before) is not None:
            changes = {"last_requester_update": now}
            if ticket.first_response is None:
                changes["first_response"] = now
            Ticket.update(**changes).where(Ticket.id == ticket.id).execute()
            for name, value in changes.items():
                setattr(ticket, name, value)

    def solve(self, key: str, *, by: str = "", expected_version: int | None = None) -> MoveResult:
        """The requester confirms a released fix: Released becomes Solved."""

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            if ticket.state != self.workflow.final or ticket.solved:
                where = "already Solved" if ticket.solved else f"in {self.workflow.column(ticket.state).title}"
                raise Refused(f"{ticket.key} is {where}; only a {self.workflow.column(self.workflow.final).title} "
                              "ticket can be marked Solved")
            now = self.clock()
            before = self.status_of(ticket)
            self._save(ticket, {"solved": True}, expected_version, now)
            entry = self._record(ticket, "solve", by, now, from_state=ticket.state, to_state=ticket.state,
                                 status_before=before, status_after=SOLVED, reason="confirmed by the requester")
            member = self.config.member(ticket.assignee) if ticket.assignee else None
            if member is not None:
                self._notify(ticket, outbox.solved(key=ticket.key, title=ticket.title, recipient=member.email,
                                                   name=member.name, requester_name=ticket.requester_name,
                                                   **self.mail_options))
            return MoveResult(ticket, entry)

        return self._write(work)

    def undo(self, key: str, *, by: str = "", expected_version: int | None = None) -> MoveResult:
        """Compensate the ticket's last change (a move, Solved, a triage answer, an assignment) with a new entry.

        History is never edited: the undo is an entry of its own (`undoes` names the one it reverses).

        The way back is allowed even where the graph has no edge (To Do ->
        Closed is a loop; Closed -> To Do is not), because it restores a state
        the ticket legitimately had.
        """

        def work() -> MoveResult:
            ticket = self._fetch_for_write(key, expected_version)
            last = (History.select().where((History.ticket == ticket) & History.kind.in_(UNDOABLE))
                    .order_by(History.id.desc()).first())
            if last is None:
                raise Refused(f"{ticket.key} has no change to undo")
            if last.undoes is not None:
                raise Refused(f"{ticket.key}: the last change was already an undo (change it on instead)")
            if last.kind in ("triage", "assign"):
                return self._undo_change(ticket, last, by, expected_version)
            if last.kind == "solve":  # only the confirmation is undone: Solved goes back to Released
                now = self.clock()
                before = self.status_of(ticket)
                self._save(ticket, {"solved": False}, expected_version, now)
                entry = self._record(ticket, "solve", by, now, from_state=ticket.state, to_state=ticket.state,
                                     status_before=before, status_after=self.status_of(ticket),
                                     reason="undo of Solved", undoes=last.id)
                return MoveResult(ticket, entry)
            hold_before = json.loads(last.detail).get("hold_before") if last.detail else None
            return self._transition(ticket, last.from_state, hold_before, by, f"undo of move to {last.to_state}",
                                    expected_version, undoes=last.id)

        return self._write(work)

    def _undo_change(self, ticket: Ticket, last: History, by: str, expected_version: int | None) -> WriteResult:
        """Put back what a triage answer or an assignment changed, as a new entry of the same kind."""
        now = self.clock()
        detail = json.loads(last.detail) if last.detail else {}
        if last.kind == "assign":
            before = ticket.assignee
            self._save(ticket, {"assignee": detail.get("from")}, expected_version, now)
            entry = self._record(ticket, "assign", by, now, undoes=last.id,
                                 reason=f"undo: assigned to {ticket.assignee}" if ticket.assignee else "undo: unassigned",
                                 detail={"from": before, "to": ticket.assignee})
            return WriteResult(ticket, entry)
        update: dict[str, Any] = {}
        for name, (old, _new) in detail.get("changes", {}).items():
            if name == "priority":
                old = parse_priority(old) if old else None
            update[name] = old
        if "priority" in update:
            level = update["priority"]
            update["sort_key"] = sort_key(ticket.kind, ticket.bug_class, level)
            if level == 1 and ticket.priority != 1:
                update.update(needs_ack=True, page_started=now, ack_at=None, ack_by=None)
            elif ticket.priority == 1 and ticket.needs_ack and ticket.ack_at is None:
                update["needs_ack"] = False
        changes = {name: (getattr(ticket, name), value) for name, value in update.items()
                   if name in TRIAGE_FIELDS and getattr(ticket, name) != value}
        self._save(ticket, update, expected_version, now)
        entry = self._record(ticket, "triage", by, now, undoes=last.id,
                             reason="undo: " + (summary(changes) if changes else "nothing to put back"),
                             detail={"changes": {n: as_recorded(n, o, v) for n, (o, v) in changes.items()}})
        return WriteResult(ticket, entry)

    # -- ranking within a column -------------------------------------------

    def rank(self, key: str, direction: str | None = None, *, position: int | None = None, by: str = "",
             mode: str = "work", expected_version: int | None = None) -> ChangeResult:
        """Move a card within its column: direction up/down/top/bottom, or to `position` (0 = first).

        In "work" mode (the default board order) a card moves among the cards
        of its own priority-of-work group and priority, because the group
        decides first; in "manual" mode among the whole column. Ranks are
        floats, so a move writes one row; the manual rank persists and is
        recorded (History kind "rank").
        """
        if (direction is None) == (position is None):
            raise Refused("give a direction (up, down, top, bottom) or a position")
        if direction is not None and direction not in ("up", "down", "top", "bottom"):
            raise Refused(f"unknown direction {direction!r} (up, down, top, bottom)")
        if mode not in triage_queries.ORDERINGS:
            raise Refused(f"unknown order {mode!r} (work or manual)")

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            new_rank = self._new_rank(ticket, direction, position, mode)
            if new_rank is None:
                where = "top" if direction in ("up", "top") or position == 0 else "bottom"
                group = " of its priority group" if mode == "work" else ""
                raise Refused(f"{ticket.key} is already at the {where}{group} in "
                              f"{self.workflow.column(ticket.state).title}")
            now = self.clock()
            before = ticket.rank
            self._save(ticket, {"rank": new_rank}, expected_version, now)
            entry = self._record(ticket, "rank", by, now, reason=f"moved {direction or f'to position {position}'}",
                                 detail={"from": before, "to": new_rank, "mode": mode})
            return ChangeResult(ticket, entry, {"rank": (before, new_rank)})

        return self._write(work)

    def _new_rank(self, ticket: Ticket, direction: str | None, position: int | None, mode: str) -> float | None:
        """The rank that puts `ticket` where asked among its peers, or None if it is there already."""
        for _ in range(2):
            peers = Ticket.select(Ticket.id, Ticket.rank).where(Ticket.state == ticket.state)
            if mode == "work":
                peers = peers.where(Ticket.sort_key == ticket.sort_key)
            others = peers.where(Ticket.id != ticket.id)
            before = others.where((Ticket.rank < ticket.rank) | ((Ticket.rank == ticket.rank) & (Ticket.id < ticket.id)))
            after = others.where((Ticket.rank > ticket.rank) | ((Ticket.rank == ticket.rank) & (Ticket.id > ticket.id)))
            if position is not None:
                ordered = others.order_by(Ticket.rank, Ticket.id)
                index = min(max(0, position), others.count())
                above = ordered.offset(index - 1).limit(1).first() if index > 0 else None
                below = ordered.offset(index).limit(1).first()
                current = before.count()
                if current == index:
                    return None
                low, high = (above.rank if above else None), (below.rank if below else None)
            elif direction in ("up", "top"):
                ahead = list(before.order_by(Ticket.rank.desc(), Ticket.id.desc()).limit(2))
                if not ahead:
                    return None
                if direction == "top":
                    return (others.select(fn.MIN(Ticket.rank)).scalar()) - 1.0
                low, high = (ahead[1].rank if len(ahead) > 1 else None), ahead[0].rank
            else:
                behind = list(after.order_by(Ticket.rank, Ticket.id).limit(2))
                if not behind:
                    return None
                if direction == "bottom":
                    return (others.select(fn.MAX(Ticket.rank)).scalar()) + 1.0
                low, high = behind[0].rank, (behind[1].rank if len(behind) > 1 else None)
            if low is None:
                return high - 1.0
            if high is None:
                return low + 1.0
            if high - low > 1e-6:
                return (low + high) / 2
            _renumber(ticket.state)  # the gap is worn out (or ranks tie): spread the column, then retry
            ticket.rank = Ticket.get_by_id(ticket.id).rank
        raise Refused(f"{ticket.key}: could not find a free rank")


def _renumber(state: str) -> None:
    """Give a column's cards ranks 1, 2, 3, … in their manual order (rarely needed)."""
    ids = [row[0] for row in Ticket.select(Ticket.id).where(Ticket.state == state)
           .order_by(Ticket.rank, Ticket.id).tuples()]
    for number, ticket_id in enumerate(ids, start=1):
        Ticket.update(rank=float(number)).where(Ticket.id == ticket_id).execute()

