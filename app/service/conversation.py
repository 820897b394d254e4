"""The conversation's writes: a reply to the requester, an internal note, an edit, a link.

One capability on the write path (`app.service.core.WritePath`), composed into
`Service`, so the board and the command line call them as `service.reply(...)`
like any other write, and they stand on the same internals: `_write` (one
transaction), `_fetch_for_write` and `_save` (the version guard), `_record`
(history) and `_notify` (the outbox).

A reply is the team speaking to the requester, so it is what the response
targets wait for (seed 002: "respond within one working day", "give the user
updates every day or two"): its outbox row is a message to the requester
(`data.sla_inputs.MESSAGE_KINDS`), and it stamps the first response and the
last update in the same transaction. A note is the "private note in the
ticket with a short summary" of the same seed: history only, never mailed,
and marked internal wherever it is shown (`app.board.timeline`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import msgspec

from app.board import links as link_rules
from app.board.ordering import sort_key
from app.board.timeline import TimelineEntry, links_of, timeline
from app.notify import drafts
from data.models import History, Notification, Ticket

from app.service.core import WritePath
from app.service.errors import Refused
from app.service.fields import validate_fields
from app.service.results import ChangeResult, WriteResult

if TYPE_CHECKING:
    from app.notify.snippets import Snippet

MAX_TEXT = 100_000
"""The longest reply or note (characters): a message, not an attachment."""

EDITABLE = ("title", "description", "requester_name", "requester_email", "kind", "bug_class", "service", "team")
"""The fields `edit_ticket` changes (the board's edit dialog, `triageboard ticket edit`)."""

_OPTIONAL = ("bug_class", "service", "team")
"""Fields where "" means "none" (stored as NULL)."""


class SentReply(msgspec.Struct, frozen=True):
    """A reply sent: the fresh ticket, its history entry, the outbox row, the triage the snippet set."""

    ticket: Ticket
    history: History
    """Kind "reply"; detail {to, subject, text, message_id, snippet}."""
    notification: Notification
    triage: History | None = None
    """The triage entry when the snippet's `sets` changed an answer; None otherwise."""


class Compose(msgspec.Struct, frozen=True):
    """What a compose dialog shows before anything is written: to whom, under which subject."""

    key: str
    to: str
    """The requester's address (empty: the ticket has none; `reply` will refuse)."""
    name: str
    subject: str
    reply_to: str
    """Where the requester's answer goes (the support address), so it comes back to this ticket."""
    version: int


class Conversation(WritePath):
    """`Service`'s conversation writes and reads; see the module docstring."""

    triage: Callable[..., ChangeResult]
    """The triage answers' own write, which `Service` takes from `app.service.triage`: a snippet's
    `sets` (acknowledged, next steps sent, ETA) are recorded as if answered on the board. Declared,
    not imported, so the conversation builds on the write path alone; it joins the reply's transaction."""

    # -- reading -----------------------------------------------------------

    @property
    def snippets(self) -> Mapping[str, Snippet]:
        """The configured canned responses by name (`notify.snippets`), in the file's order."""
        return self.config.notify.snippets

    def snippet_text(self, key: str, name: str, *, by: str = "", eta: str | None = None) -> str:
        """The snippet `name` filled in for ticket `key`: what the compose dialog inserts."""
        snippet = self._snippet(name)
        return self._render_snippet(snippet, self.get(key), by, eta)

    def compose(self, key: str) -> Compose:
        ticket = self.get(key)
        subject, _ = self.config.notify.templates.render(
            "response", key=ticket.key, title=ticket.title, text="", requester=ticket.requester_name or "there",
            by="", status=self.status_of(ticket))
        return Compose(key=ticket.key, to=ticket.requester_email, name=ticket.requester_name, subject=subject,
                       reply_to=self.config.notify.smtp.reply_address, version=ticket.version)

    def conversation(self, ticket: Ticket) -> list[TimelineEntry]:
        """The ticket's history as a conversation (`app.board.timeline`), oldest first."""
        return timeline(self.history(ticket), lambda state: self.workflow.column(state).title)

    def links(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The ticket's links, oldest first: {url, label, by, at, id}."""
        return links_of(History.select().where((History.ticket == ticket) & (History.kind == "link"))
                        .order_by(History.at, History.id))

    # -- writing -----------------------------------------------------------

    def reply(self, key: str, text: str = "", *, by: str, snippet: str | None = None, eta: str | None = None,
              expected_version: int | None = None) -> SentReply:
        """Write to the requester: a history entry (kind "reply") and an outbox mail, in one transaction.

        `text` is what is sent, as written; empty with a `snippet`, the
        snippet's text filled in for the ticket is sent instead (the board
        inserts the snippet and passes the edited text with its name, so the
        snippet's `sets` still apply). `sets` answers the triage questions
        the message fulfils in the same transaction: acknowledged and
        next_steps_sent become true, eta becomes `eta` (or the ticket's ETA,
        which must then exist). The reply stamps the first response (if
        none yet) and the last update to the requester.
        """
        by = self._sender(by)
        chosen = self._snippet(snippet) if snippet else None
        text = check_text(text, "reply", allow_empty=chosen is not None)
        eta = (eta or "").strip() or None
        if eta is not None and ("\x00" in eta or len(eta) > 200):
            raise self._refused("eta: at most 200 characters, without NUL")

        def work() -> SentReply:
            ticket = self._fetch_for_write(key, expected_version)
            if not ticket.requester_email:
                raise Refused(f"{ticket.key} has no requester e-mail to reply to (set one with "
                                   f"`triageboard ticket edit {ticket.key} --requester-email ADDRESS`)")
            given_eta = eta or ticket.eta
            if chosen is not None and "eta" in chosen.sets and not given_eta:
                raise Refused(f"snippet {chosen.name!r} gives an ETA: say which (--eta, e.g. \"Friday\")")
            body = text or self._render_snippet(chosen, ticket, by, given_eta)
            now = self.clock()
            member = self.config.member(by)
            draft = drafts.response(key=ticket.key, title=ticket.title, requester_email=ticket.requester_email,
                                    requester_name=ticket.requester_name, text=body,
                                    by=member.name if member else by, status=self.status_of(ticket),
                                    link=self.requester_link(ticket), **self.mail_options)
            stamps = {"last_requester_update": now}
            if ticket.first_response is None:
                stamps["first_response"] = now
            self._save(ticket, stamps, expected_version, now)
            notification = self._notify(ticket, draft)
            entry = self._record(ticket, "reply", by, now, reason=f"to {ticket.requester_email}",
                                 detail={"to": ticket.requester_email, "subject": draft.subject, "text": body,
                                         "message_id": draft.message_id, "snippet": chosen.name if chosen else None})
            answered = None
            if chosen is not None and chosen.sets:
                answers = {name: (given_eta if name == "eta" else True) for name in chosen.sets}
                changed = self.triage(ticket.key, by=by, **answers)  # joins this transaction
                ticket, answered = changed.ticket, changed.history
            return SentReply(ticket, entry, notification, answered)

        return self._write(work)

    def note(self, key: str, text: str, *, by: str, expected_version: int | None = None) -> WriteResult:
        """An internal note (history kind "note"): never mailed, marked internal wherever shown."""
        by = self._sender(by)
        text = check_text(text, "note")

        def work() -> WriteResult:
            ticket = self._fetch_for_write(key, expected_version)
            now = self.clock()
            self._save(ticket, {}, expected_version, now)  # a new version: live boards show the note
            return WriteResult(ticket, self._record(ticket, "note", by, now, detail={"text": text}))

        return self._write(work)

    def edit_ticket(self, key: str, changes: Mapping[str, Any], *, by: str = "",
                    expected_version: int | None = None) -> ChangeResult:
        """Change what the ticket says (`EDITABLE`), checked as on create and import, in one guarded write.

        One history entry of kind "edit" with detail {"changes": {field:
        [before, after]}} for the fields that really change; nothing changes,
        nothing is written (`history` None). A kind other than bug drops the
        bug class, and the priority-of-work order follows the kind, as
        `route` does. A stale `expected_version` is `Conflict`.
        """
        wanted = self.check_edit(changes)

        def work() -> ChangeResult:
            ticket = self._fetch_for_write(key, expected_version)
            new = {name: wanted.get(name, getattr(ticket, name)) for name in EDITABLE}
            if new["kind"] != "bug":
                if wanted.get("bug_class"):
                    raise Refused(f"{ticket.key}: a bug class only applies to a bug, not a {new['kind']}")
                new["bug_class"] = None
            diff = {name: (getattr(ticket, name), value) for name, value in new.items()
                    if getattr(ticket, name) != value}
            if not diff:
                return ChangeResult(ticket, None, {})
            update = {name: value for name, (_, value) in diff.items()}
            if "kind" in diff or "bug_class" in diff:
                update["sort_key"] = sort_key(new["kind"], new["bug_class"], ticket.priority)
            now = self.clock()
            self._save(ticket, update, expected_version, now)
            entry = self._record(ticket, "edit", by, now,
                                 reason="edited " + ", ".join(name.replace("_", " ") for name in diff),
                                 detail={"changes": {name: [old, value] for name, (old, value) in diff.items()}})
            return ChangeResult(ticket, entry, diff)

        return self._write(work)

    def link(self, key: str, url: str, *, label: str | None = None, by: str = "",
             expected_version: int | None = None) -> WriteResult:
        """Keep an external reference on the ticket (history kind "link", detail {url, label}).

        http, https and mailto only (`app.board.links`); the same URL twice
        on one ticket is refused, naming the earlier label.
        """
        url, label = self.check_link(url, label)

        def work() -> WriteResult:
            ticket = self._fetch_for_write(key, expected_version)
            earlier = next((item for item in self.links(ticket) if item["url"] == url), None)
            if earlier is not None:
                raise Refused(f"{ticket.key} already links {url} ({earlier['label']})")
            now = self.clock()
            self._save(ticket, {}, expected_version, now)
            return WriteResult(ticket, self._record(ticket, "link", by, now, reason=label,
                                                         detail={"url": url, "label": label}))

        return self._write(work)

    # -- checks without a write (the CLI's exit 2, a dialog's inline error) --

    def check_link(self, url: str, label: str | None = None) -> tuple[str, str]:
        """(url, label) as `link` would store them; Refused when the URL or label cannot be kept."""
        url = (url or "").strip()
        problem = link_rules.url_problem(url)
        if problem:
            raise self._refused(problem)
        label = (label or "").strip()
        problem = link_rules.label_problem(label)
        if problem:
            raise self._refused(problem)
        return url, label or link_rules.default_label(url)

    def check_snippet(self, name: str) -> Snippet:
        """The snippet called `name`; Refused lists the configured ones."""
        return self._snippet(name)

    # -- helpers -----------------------------------------------------------

    def _snippet(self, name: str | None) -> Snippet:
        found = self.config.notify.snippets.get((name or "").strip())
        if found is None:
            known = ", ".join(self.config.notify.snippets) or "none are configured (notify.snippets in config.yaml)"
            raise self._refused(f"unknown snippet {name!r} (snippets: {known})")
        return found

    def _render_snippet(self, snippet: Snippet, ticket: Ticket, by: str, eta: str | None) -> str:
        member = self.config.member(by) if by else None
        return snippet.render(key=ticket.key, title=ticket.title, requester=ticket.requester_name or "there",
                              status=self.status_of(ticket), by=member.name if member else by,
                              eta=eta or ticket.eta or "")

    def _sender(self, by: str) -> str:
        by = (by or "").strip()
        if not by:
            raise self._refused("say who writes it (a team handle)")
        return by

    def check_edit(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """`changes` normalised and checked as `edit_ticket` will (before any transaction); Refused names the problem.

        "" clears bug class, service and team; title, kind and requester
        address are checked as on create and import.
        """
        from app.notify.addresses import address_problem, nul_problem  # the email package: only when editing

        unknown = [name for name in changes if name not in EDITABLE]
        if unknown:
            raise self._refused(f"cannot edit {', '.join(map(repr, unknown))} (editable: {', '.join(EDITABLE)})")
        wanted: dict[str, Any] = {}
        for name, value in changes.items():
            if value is not None and not isinstance(value, str):
                raise self._refused(f"{name.replace('_', ' ')}: expected text, got {type(value).__name__}")
            value = value or ""
            problem = nul_problem(value)
            if problem:
                raise self._refused(f"{name.replace('_', ' ')}: {problem}")
            if name != "description":
                value = value.strip()
            if name in ("kind", "bug_class"):
                value = value.lower()
            if name == "title" and not value:
                raise self._refused("a ticket needs a title")
            if name == "requester_email":
                problem = address_problem(value)
                if problem:
                    raise self._refused(f"requester: {problem}")
            if name == "kind" and not value:
                raise self._refused("a ticket needs a kind")
            wanted[name] = (value or None) if name in _OPTIONAL else value
        validate_fields(self.config, service=wanted.get("service"), kind=wanted.get("kind"),
                             bug_class=wanted.get("bug_class"))
        return wanted

    @staticmethod
    def _refused(message: str) -> Exception:
        return Refused(message)


def check_text(text: str | None, what: str, allow_empty: bool = False) -> str:
    """A reply's or note's words: kept as written (trailing blank lines dropped), non-empty, storable."""
    text = (text or "").replace("\r\n", "\n").rstrip()
    if not text.strip():
        if allow_empty:
            return ""
        raise Refused(f"a {what} needs some text")
    if "\x00" in text:
        raise Refused(f"{what}: contains a NUL character (\\x00), which PostgreSQL cannot store")
    if len(text) > MAX_TEXT:
        raise Refused(f"a {what} is at most {MAX_TEXT:,} characters (this one has {len(text):,})")
    return text


__all__ = ["EDITABLE", "MAX_TEXT", "Compose", "Conversation", "SentReply", "check_text"]
