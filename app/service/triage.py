"""Triage and routing: the answers that set a ticket's priority, where it belongs, and who takes it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from app.triage import assignment
from app.triage import rules as triage
from app.board.ordering import parse_priority, sort_key
from app.service.core import WritePath
from app.service.errors import Refused
from app.service.fields import TRIAGE_FIELDS, as_recorded, summary, validate_fields
from app.service.results import ChangeResult, Suggestion
from data import triage as triage_queries
from data.models import History, Ticket

COALESCE_SECONDS = 5.0
"""One person's edits of one triage answer this close together are one history entry (`u u u`)."""


class Triage(WritePath):
    """The triage answers (one coalesced history row per quick edit), routing, assigning, and whom to ask."""

    def validate_fields(self, *, service: str | None = None, kind: str | None = None, bug_class: str | None = None,
                        assignee: str | None = None, work_type: str | None = None) -> None:
        validate_fields(self.config, service=service, kind=kind, bug_class=bug_class, assignee=assignee,
                        work_type=work_type)

    def triage(self, key: str, *, by: str = "", impact: Any = ..., urgency: Any = ..., users_affected: Any = ...,
               frequency: Any = ..., service_down: Any = ..., deadline: Any = ..., reproducible: Any = ...,
               actionable: Any = ..., acknowledged: Any = ..., next_steps_sent: Any = ..., eta: Any = ...,
               priority: int | str | None = None, clear_override: bool = False, description: Any = ...,
               background: Any = ..., impact_statement: Any = ..., extra_info: Any = ...,
               expected_version: int | None = None) -> ChangeResult:
        """Set triage answers; `...` leaves an answer as it is, None clears it.

        The priority follows the configured matrix (impact x urgency, urgency
        raised by a near event) unless overridden: `priority` overrides it and
        the override sticks until `clear_override`, which returns to the
        matrix. An unanswered impact is filled from 2i2c's three questions.
        Reaching P1 marks the ticket as needing acknowledgement and starts the
        escalation clock; leaving P1 before anyone acknowledged stops it.
        One transaction, one History row (kind "triage", detail: field -> [old, new]).
        """
        given = {name: value for name, value in (
            ("impact", impact), ("urgency", urgency), ("users_affected", users_affected),
            ("frequency", frequency), ("service_down", service_down), ("deadline", deadline),
            ("reproducible", reproducible), ("actionable", actionable), ("acknowledged", acknowledged),
            ("next_steps_sent", next_steps_sent), ("eta", eta), ("description", description),
            ("background", background), ("impact_statement", impact_statement), ("extra_info", extra_info),
        ) if value is not ...}
        answers = _check_answers(given)
        if priority is not None and clear_override:
            raise Refused("give a priority override or clear it, not both")
        level = None
        if priority is not None:
            try:
                level = parse_priority(str(priority))
            except ValueError as exc:
                raise Refused(str(exc)) from None

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            now = self.clock()
            notes: list[str] = []
            new = {name: getattr(ticket, name) for name in TRIAGE_FIELDS}
            new.update(answers)
            if "impact" not in answers and new["impact"] is None:
                hint = triage.suggested_impact(users_affected=new["users_affected"], frequency=new["frequency"],
                                               service_down=new["service_down"])
                if hint:
                    new["impact"] = hint
                    notes.append(f"impact {hint} from the impact questions")
            overridden = ticket.priority_overridden
            if level is not None:
                overridden = True
                new["priority"] = level
                notes.append(f"priority overridden to P{level}")
            elif clear_override and overridden:
                overridden = False
                notes.append("priority override cleared")
            if not overridden:
                urgency_now = triage.effective_urgency(new["urgency"], new["deadline"], self.today(),
                                                       self.config.triage)
                if urgency_now != new["urgency"] and urgency_now is not None:
                    notes.append(f"urgency raised to {urgency_now} by the event on {new['deadline']}")
                new["priority"] = triage.suggested_priority(new["impact"], urgency_now, self.config.triage.matrix)
            new["priority_overridden"] = overridden

            changes = {name: (getattr(ticket, name), value) for name, value in new.items()
                       if getattr(ticket, name) != value}
            if not changes:
                return ChangeResult(ticket, None, {})
            update: dict[str, Any] = {name: value for name, (_, value) in changes.items()}
            if "priority" in changes:
                old_level, new_level = changes["priority"]
                update["sort_key"] = sort_key(ticket.kind, ticket.bug_class, new_level)
                if new_level == 1:
                    update.update(needs_ack=True, page_started=now, ack_at=None, ack_by=None)
                    notes.append("P1: review immediately; escalation clock started")
                elif old_level == 1 and ticket.needs_ack and ticket.ack_at is None:
                    update["needs_ack"] = False
                    notes.append("no longer P1: escalation clock stopped")
            self._save(ticket, update, expected_version, now)
            entry = self._coalesced_triage(ticket, by, now, changes, notes)
            if entry is None:
                detail = {"changes": {name: as_recorded(name, old, value) for name, (old, value) in changes.items()}}
                if notes:
                    detail["notes"] = notes
                entry = self._record(ticket, "triage", by, now, reason="; ".join([summary(changes), *notes]),
                                     detail=detail)
            warnings = []
            if ticket.actionable == "yes" and "actionable" in changes:
                lacking = triage.intake_missing(description=ticket.description, background=ticket.background,
                                                impact_statement=ticket.impact_statement,
                                                extra_info=ticket.extra_info)
                if lacking:
                    warnings.append(f"{ticket.key} judged actionable although the intake lacks {', '.join(lacking)}")
            return ChangeResult(ticket, entry, changes, tuple(warnings))

        return self._write(work)

    def _coalesced_triage(self, ticket: Ticket, by: str, now: dt.datetime, changes: dict[str, tuple[Any, Any]],
                          notes: list[str]) -> History | None:
        """Fold this answer into the ticket's last history row when it is the same person's edit of the same answers
        within `COALESCE_SECONDS` (cycling urgency with `u u u` is one decision, not three); None otherwise.

        The row keeps the first old value and takes the new one, its time and its notes: what a reader of the
        history needs, without the steps in between. Only the row this session could have just written
        (the newest of the ticket) is ever folded into.
        """
        last = History.select().where(History.ticket == ticket).order_by(History.id.desc()).first()
        if (last is None or last.kind != "triage" or last.by != by or last.undoes is not None or not last.detail
                or (now - last.at).total_seconds() > COALESCE_SECONDS):
            return None
        earlier = json.loads(last.detail).get("changes", {})
        answered = {name for name in changes if name not in ("priority", "priority_overridden")}
        if not answered or answered != {n for n in earlier if n not in ("priority", "priority_overridden")}:
            return None
        merged = {name: (earlier[name][0] if name in earlier else as_recorded(name, old, new)[0],
                         as_recorded(name, old, new)[1]) for name, (old, new) in changes.items()}
        merged.update({name: tuple(pair) for name, pair in earlier.items() if name not in merged})
        detail = {"changes": {name: list(pair) for name, pair in merged.items()}, "coalesced": True}
        if notes:
            detail["notes"] = notes
        last.at, last.detail = now, json.dumps(detail, default=str)
        last.reason = "; ".join([summary({n: (o, v) for n, (o, v) in changes.items()}), *notes])
        last.save()
        return last

    def route(self, key: str, *, by: str = "", service: str | None = None, team: str | None = None,
              kind: str | None = None, bug_class: str | None = None,
              expected_version: int | None = None) -> ChangeResult:
        """Send a ticket where it belongs: service, team, kind, bug class.

        None leaves a field as it is; "" clears service, team or bug class.
        Turning a ticket into a feature request is Mattermost's "recommend
        turning non-bugs into stories or feature requests": recorded with the
        reason "converted to feature request". A kind other than bug drops the
        bug class; the priority-of-work order (`sort_key`) follows.
        """
        wanted: dict[str, Any] = {}
        if service is not None:
            wanted["service"] = service.strip() or None
        if team is not None:
            wanted["team"] = team.strip() or None
        if kind is not None:
            wanted["kind"] = kind.strip().lower()
        if bug_class is not None:
            wanted["bug_class"] = bug_class.strip().lower() or None
        self.validate_fields(service=wanted.get("service"), kind=wanted.get("kind"), bug_class=wanted.get("bug_class"))

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            new = {"service": ticket.service, "team": ticket.team, "kind": ticket.kind, "bug_class": ticket.bug_class}
            new.update(wanted)
            if new["kind"] != "bug":
                if wanted.get("bug_class"):
                    raise Refused(f"{ticket.key}: a bug class only applies to a bug, not a {new['kind']}")
                new["bug_class"] = None
            changes = {name: (getattr(ticket, name), value) for name, value in new.items()
                       if getattr(ticket, name) != value}
            if not changes:
                return ChangeResult(ticket, None, {})
            now = self.clock()
            update = {name: value for name, (_, value) in changes.items()}
            update["sort_key"] = sort_key(new["kind"], new["bug_class"], ticket.priority)
            self._save(ticket, update, expected_version, now)
            if "kind" in changes and new["kind"] == "feature":
                reason = "converted to feature request"
            else:
                reason = "routed: " + ", ".join(f"{name} {value or '-'}" for name, (_, value) in changes.items())
            entry = self._record(ticket, "route", by, now, reason=reason,
                                 detail={"changes": {n: [o, v] for n, (o, v) in changes.items()}})
            return ChangeResult(ticket, entry, changes)

        return self._write(work)

    def assign(self, key: str, handle: str | None, *, by: str = "", expected_version: int | None = None) -> ChangeResult:
        """Assign to a team member (None or "" unassigns); recorded as kind "assign"."""
        handle = (handle or "").strip() or None
        self.validate_fields(assignee=handle)

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            if ticket.assignee == handle:
                return ChangeResult(ticket, None, {})
            now = self.clock()
            before = ticket.assignee
            self._save(ticket, {"assignee": handle}, expected_version, now)
            entry = self._record(ticket, "assign", by, now, reason=f"assigned to {handle}" if handle else "unassigned",
                                 detail={"from": before, "to": handle})
            member = self.config.member(handle) if handle else None
            warnings = (f"{handle} is marked unavailable in the config",) if member and not member.available else ()
            return ChangeResult(ticket, entry, {"assignee": (before, handle)}, warnings)

        return self._write(work)

    def suggest_assignee(self, key: str, *, by: str = "") -> Suggestion:
        """Whom to ask to take `key`: fair across the team and across sessions.

        The available member with the least open work (assigned, not in the
        final column) who was not the last one asked (the latest suggestion
        or assignment on any ticket), ties alphabetical. The suggestion is
        recorded (History kind "suggest", detail {"asked": handle}) so the next
        one, on any board, skips this person. Assigning is a separate step.
        """

        def work() -> Suggestion:
            ticket = self._fetch_for_write(key)
            available = [m.handle for m in self.config.team if m.available]
            counts = triage_queries.open_work_counts(self.workflow.final)
            last = triage_queries.last_asked()
            handle = assignment.suggest_assignee(available, counts, last)
            if handle is None:
                raise Refused("nobody is available to ask (every team member is marked available: false)")
            now = self.clock()
            considered = {h: counts.get(h, 0) for h in sorted(available)}
            entry = self._record(ticket, "suggest", by, now, reason=f"asked {handle}",
                                 detail={"asked": handle, "open_work": considered, "last_asked": last})
            return Suggestion(ticket, handle, considered, last, entry)

        return self._write(work)


_CHOICES = {"impact": triage.IMPACTS, "urgency": triage.URGENCIES, "users_affected": triage.USERS_AFFECTED,
            "frequency": triage.FREQUENCIES, "reproducible": triage.REPRODUCIBLE, "actionable": triage.ACTIONABLE}


def _check_answers(given: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise triage answers; Refused names the accepted words."""
    answers: dict[str, Any] = {}
    for name, value in given.items():
        if name in _CHOICES:
            if isinstance(value, str):
                value = value.strip().lower() or None
            if value is not None and value not in _CHOICES[name]:
                raise Refused(f"{name.replace('_', ' ')} must be one of {', '.join(_CHOICES[name])}, got {value!r}")
        elif name == "service_down":
            if value is not None and not isinstance(value, bool):
                raise Refused(f"service down is yes or no, got {value!r}")
        elif name in ("acknowledged", "next_steps_sent"):
            value = bool(value)
        elif name == "deadline":
            if isinstance(value, dt.date):
                value = value.isoformat()[:10]
            else:
                try:
                    day = triage.parse_date(value)
                except ValueError as exc:
                    raise Refused(f"deadline: {exc}") from None
                value = day.isoformat() if day else None
        elif name == "eta":
            value = (str(value).strip() or None) if value is not None else None
        else:  # the intake texts
            value = (str(value) if value is not None else "").strip()
        answers[name] = value
    return answers

