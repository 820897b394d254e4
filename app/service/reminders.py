"""Reminders of response targets: the team hears before a ticket's first response or update is late."""

from __future__ import annotations

import datetime as dt
import json

from app.notify import drafts as outbox
from app.oncall.escalation import on_duty_in
from app.service.core import WritePath
from app.service.results import Reminder
from app.sla.labels import TARGET_PHRASES, TARGET_TITLES
from app.sla.source import aware, open_statuses
from app.sla.targets import SlaStatus, TargetStatus, reminders_due
from data.models import History, Ticket
from data.sla_inputs import CHUNK, REMINDER, SlaRow, reminder_keys


class Reminders(WritePath):
    """One reminder per target cycle, to the person responsible, recorded so that no loop sends it twice."""

    def remind_due(self, now: dt.datetime | None = None) -> list[Reminder]:
        """Remind the team of every open ticket whose response target has entered its warning margin.

        One reminder per target cycle (`TargetStatus.reminder_key`): the
        first response once, each update cycle once. A target already breached
        when nothing looked during its margin (the loop was down over a
        weekend) is reminded once too. Each reminder is a notification to the
        person responsible and a History row kind "reminder" (detail:
        `reminder_key`, target, due, recipient) in one transaction; the row is
        what makes a second run send nothing, checked again inside the
        transaction so two loops on one team database cannot both send.

        Who is reminded: the assignee; for an unassigned ticket, whoever is on
        duty in the rotation of the first escalation step (the primary on
        call); with no escalation configured, the first member of `team:`.
        Open tickets are read in chunks (`data.sla_inputs.CHUNK`), three
        queries each plus one for the reminders already sent.
        """
        instant = aware(now or self.clock())
        now = instant.astimezone(dt.timezone.utc).replace(tzinfo=None)  # stored instants are naive UTC
        written: list[Reminder] = []
        batch: list[tuple[SlaRow, SlaStatus]] = []

        def flush() -> None:
            sent = reminder_keys([row.id for row, _ in batch])
            for row, status in batch:
                for target in reminders_due(status, sent.get(row.id, set())):
                    reminder = self._remind(row.id, target, instant, now)
                    if reminder is not None:
                        written.append(reminder)
            batch.clear()

        for row, status in open_statuses(self.config, instant):
            batch.append((row, status))
            if len(batch) >= CHUNK:
                flush()
        flush()
        return written

    def responsible(self, assignee: str | None, instant: dt.datetime) -> str:
        """The handle a reminder goes to: the assignee, else the first escalation step's on-duty member, else the first team member."""
        if assignee and self.config.member(assignee) is not None:
            return assignee
        oncall = self.config.oncall
        if oncall.escalation:
            holders = on_duty_in(oncall, oncall.escalation[0].names, instant)
            if holders:
                return holders[0]
        return self.config.team[0].handle

    def _remind(self, ticket_id: int, target: TargetStatus, instant: dt.datetime, now: dt.datetime) -> Reminder | None:
        def work() -> Reminder | None:
            ticket = Ticket.get_or_none(Ticket.id == ticket_id)
            if ticket is None:
                return None
            already = (History.select().where((History.ticket == ticket) & (History.kind == REMINDER)
                                              & History.detail.contains(target.reminder_key)))
            if any(json.loads(h.detail).get("reminder_key") == target.reminder_key for h in already):
                return None
            handle = self.responsible(ticket.assignee, instant)
            member = self.config.member(handle)
            tz = self.config.board.tz
            due = target.due.astimezone(tz)
            last = ticket.last_requester_update
            draft = outbox.response_reminder(
                key=ticket.key, title=ticket.title, recipient=member.email if member else "",
                name=member.name if member else handle, target=TARGET_PHRASES[target.name],
                due=f"{due:%a %d %b %H:%M %Z}",
                last_update=f"{last.replace(tzinfo=dt.timezone.utc).astimezone(tz):%a %d %b %H:%M %Z}" if last else "never",
                **self.mail_options)
            self._notify(ticket, draft)
            self._record(ticket, REMINDER, "triageboard", now, reason=f"{TARGET_TITLES[target.name]} {target.state}",
                         detail={"reminder_key": target.reminder_key, "target": target.name, "state": target.state,
                                 "due": due.isoformat(), "to": handle})
            return Reminder(key=ticket.key, target=target.name, recipient=handle, state=target.state, due=due)

        return self._write(work)
