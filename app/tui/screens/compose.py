"""The conversation's dialogs: `R` reply and `N` note (one compose dialog), `e` edit, the detail view's `l` link.

Unlike the pickers, these dialogs stay open while their write runs: the board
part (`board_conversation.ConversationKeys`) hands each a `submit` that writes
in a worker and answers with an `Outcome`. A write that went through closes the
dialog; a refusal (a stale version, no requester address, a URL that is not a
link) is shown in the dialog, in one line, and what was typed stays where it
was. After a conflict the dialog takes the fresh version, so a second ctrl+s
is the user's informed choice, not the same refusal again.

Everything from outside (the subject, the recipient, a snippet's text with the
ticket's title in it) is shown through `shown` and `Content` from plain
strings; a TextArea shows text literally anyway.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import msgspec
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, TextArea

from app.service import Refused
from app.tui.screens.pickers import _Picker
from app.tui.screens.seen import SeenFirst
from app.tui.screens.triage_dialogs import _Form, kept
from widgets.safe_text import shown


class Outcome(msgspec.Struct, frozen=True):
    """How a dialog's write went, as the board part tells the dialog."""

    ok: bool
    message: str
    """One line: what was done, or why not."""
    version: int | None = None
    """The ticket's version now (after a conflict: the fresh one, so the next ctrl+s guards with it)."""
    conflict: bool = False


Submit = Callable[[Any, "int | None", Callable[[Outcome], None]], None]
"""submit(what, version, answered): write `what` guarded by `version`, then call `answered` on the event loop."""


class Draft(msgspec.Struct, frozen=True):
    """A reply or a note as typed."""

    text: str
    snippet: str | None = None
    """The last snippet inserted: its `sets` apply when the reply is sent."""
    eta: str | None = None


class Confirm(ModalScreen[bool]):
    """Discard what was typed? y discards, n or escape goes back to it."""

    CSS_PATH = "compose.tcss"
    BINDINGS = [Binding("y", "answer(True)", "Discard", id="confirm.yes"),
                Binding("n,escape", "answer(False)", "Keep writing", id="confirm.no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Label(Content(self.question), classes="dialog--title")
            yield Label("y discards it · n or escape goes back to it", classes="dialog--hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class SnippetPicker(_Picker):
    """ctrl+t in the reply dialog: the configured canned replies (`notify.snippets`) and what each ticks."""

    def __init__(self, snippets: Sequence[tuple[str, tuple[str, ...]]]) -> None:
        options = [(name, name + (f"  (sets {', '.join(sets)})" if sets else "")) for name, sets in snippets]
        super().__init__("Insert a canned reply (notify.snippets in config.yaml)", options)


class _Dialog(SeenFirst, ModalScreen[str]):
    """What the three writing dialogs share: the one-line error, the submit and its answer, a cancel."""

    CSS_PATH = "compose.tcss"

    def __init__(self, key: str, version: int | None, submit: Submit) -> None:
        super().__init__()
        self.key = key
        self.version = version
        self.submit = submit
        self.sending = False

    def error(self, message: str) -> None:
        """One line in the dialog (and nothing else changes in it)."""
        label = self.query_one(".dialog--error", Label)
        label.update(Content(shown(message)))
        label.display = bool(message)

    def send(self, what: Any) -> None:
        if self.sending:
            return
        self.sending = True
        self.error("")
        self.query_one("#dialog-keys", Label).update("saving…")
        self.submit(what, self.version, self.answered)

    def answered(self, outcome: Outcome) -> None:
        self.sending = False
        self.query_one("#dialog-keys", Label).update(self.hint)
        if outcome.ok:
            self.dismiss(outcome.message)
            return
        if outcome.conflict and outcome.version is not None:
            self.version = outcome.version
        self.error(outcome.message)

    hint = ""

    def changed(self) -> bool:
        """Something was typed that closing would lose."""
        return False

    def action_cancel(self) -> None:
        if self.sending:
            self.app.bell()
            return
        if not self.changed():
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(Confirm("Discard what you typed? Nothing has been saved."), answer)


class ComposeDialog(_Dialog):
    """`R`: a reply to the requester (a mail); `N`: an internal note (never mailed). ctrl+s writes it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("ctrl+s", "send", "Send", id="compose.send"),
                Binding("ctrl+t", "snippet", "Snippet…", id="compose.snippet")]

    def __init__(self, mode: str, preview: Any, *, snippets: Sequence[tuple[str, tuple[str, ...]]] = (),
                 fill: Callable[[str, str | None], str] | None = None, submit: Submit) -> None:
        """`preview` is the service's `Compose` (to, name, subject, reply_to, version); `fill(name, eta)`
        is a snippet's text for this ticket (called in a worker)."""
        super().__init__(preview.key, preview.version, submit)
        self.mode = mode
        self.preview = preview
        self.snippets = snippets
        self.fill = fill
        self.snippet: str | None = None
        self.inserted = ""
        """The snippet text as inserted: closing with only that in the box loses nothing typed."""
        self.hint = ("ctrl+s sends · ctrl+t inserts a snippet · esc cancels" if mode == "reply"
                     else "ctrl+s saves the note · esc cancels")

    def compose(self) -> ComposeResult:
        preview = self.preview
        reply = self.mode == "reply"
        with Vertical(classes="dialog dialog--compose" + ("" if reply else " -internal"), id="compose"):
            if reply:
                yield Label(Content(shown(f"Reply to the requester of {preview.key}")), classes="dialog--title")
                to = f"{preview.name} <{preview.to}>" if preview.name and preview.to else preview.to
                yield Label(Content(shown(f"To:       {to or '(no requester e-mail: set one with e)'}")),
                            id="compose-to")
                yield Label(Content(shown(f"Subject:  {preview.subject}")), id="compose-subject")
                if preview.reply_to:
                    yield Label(Content(shown(f"Reply-To: {preview.reply_to} (answers come back to "
                                              f"{preview.key})")), id="compose-reply-to", classes="dialog--hint")
            else:
                yield Label(Content(shown(f"Internal note on {preview.key}")), classes="dialog--title")
                yield Label("Internal note — never mailed: only the team sees it", id="compose-internal")
            yield TextArea(id="compose-text", soft_wrap=True, show_line_numbers=False)
            if reply:
                with Horizontal(id="compose-meta"):
                    yield Label("ETA", id="compose-eta-label")
                    yield Input(id="compose-eta", placeholder="optional: the ETA you give (e.g. Friday)",
                                compact=True)
                    yield Label("", id="compose-snippet", classes="dialog--hint")
            yield Label("", classes="dialog--error")
            yield Label(self.hint, id="dialog-keys", classes="dialog--hint")

    def on_mount(self) -> None:
        self.query_one(".dialog--error", Label).display = False
        self.query_one("#compose-text", TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one("#compose-text", TextArea).text

    def changed(self) -> bool:
        text = self.text.strip()
        return bool(text) and text != self.inserted.strip()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "snippet":
            return self.mode == "reply"
        return True

    def action_snippet(self) -> None:
        if self.mode != "reply" or self.fill is None:
            return
        if not self.snippets:
            self.error("no snippets are configured (notify.snippets in config.yaml)")
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            if "eta" in dict(self.snippets).get(name, ()) and not self._eta():
                self.error(f"snippet {name} gives the requester an ETA: type it in the ETA field, then ctrl+t again")
                self.query_one("#compose-eta", Input).focus()
                return
            self._fill_worker(name, self._eta())

        self.app.push_screen(SnippetPicker(self.snippets), chosen)

    def _eta(self) -> str | None:
        if self.mode != "reply":
            return None
        return self.query_one("#compose-eta", Input).value.strip() or None

    @work(thread=True, exclusive=True, group="compose-snippet", exit_on_error=False)
    def _fill_worker(self, name: str, eta: str | None) -> None:
        try:
            text = self.fill(name, eta)
        except Refused as exc:
            self.app.call_from_thread(self.error, str(exc))
            return
        self.app.call_from_thread(self._insert, name, text)

    def _insert(self, name: str, text: str) -> None:
        """At the cursor; into an empty box, the snippet is the whole text. The cursor goes to the snippet's
        first line that is only "-" (the resolution's "This is what we did:"), where the words go."""
        area = self.query_one("#compose-text", TextArea)
        if not area.text.strip():
            area.load_text(text)
            start = (0, 0)
            self.inserted = text
        else:
            start = area.cursor_location
            area.insert(text)
        end = area.cursor_location if start != (0, 0) else area.document.end
        blank = next((i for i, line in enumerate(text.split("\n")) if line.strip() == "-"), None)
        if blank is None:
            area.move_cursor(end)
        else:
            line = text.split("\n")[blank]
            area.move_cursor((start[0] + blank, (start[1] if blank == 0 else 0) + len(line)))
        self.snippet = name
        sets = dict(self.snippets).get(name, ())
        self.query_one("#compose-snippet", Label).update(
            Content(shown(f"snippet {name}" + (f": sending sets {', '.join(sets)}" if sets else ""))))
        self.error("")
        area.focus()

    def action_send(self) -> None:
        if not self.seen():
            return
        text = self.text
        if not text.strip():
            self.error(f"a {self.mode} needs some text" + (" (ctrl+t inserts a snippet)" if self.mode == "reply" else ""))
            return
        self.send(Draft(text=text, snippet=self.snippet, eta=self._eta()))


class EditDialog(_Dialog):
    """`e`: what the ticket says, prefilled; ctrl+s saves the fields that changed, in one guarded write."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("ctrl+s", "save", "Save", id="edit.save")]

    FIELDS = (("title", "Title"), ("requester_name", "Requester"), ("requester_email", "E-mail"),
              ("kind", "Kind"), ("bug_class", "Bug class"), ("service", "Service"), ("team", "Team"))

    def __init__(self, key: str, version: int, values: Mapping[str, str], *, kinds: Sequence[str],
                 bug_classes: Sequence[str], services: Sequence[str],
                 check: Callable[[Mapping[str, Any]], dict[str, Any]], submit: Submit) -> None:
        super().__init__(key, version, submit)
        self.values = values
        self.kinds = kinds
        self.bug_classes = bug_classes
        self.services = services
        self.check = check
        self.hint = "ctrl+s saves · tab to the next field · esc cancels"

    def compose(self) -> ComposeResult:
        values = self.values
        with _Form(classes="dialog dialog--edit", id="edit-ticket"):
            yield Label(Content(shown(f"Edit {self.key}")), classes="dialog--title")
            for name, label in self.FIELDS:
                with Horizontal(classes="form--row"):
                    yield Label(label)
                    if name in ("kind", "bug_class", "service"):
                        options = {"kind": self.kinds, "bug_class": self.bug_classes, "service": self.services}[name]
                        current = values.get(name) or ""
                        choices = [(shown(v), v) for v in options]
                        if current and current not in options:  # a value the config no longer lists: kept
                            choices.insert(0, (shown(current), current))
                        yield Select(choices, value=current or Select.NULL, allow_blank=name != "kind",
                                     prompt="(none)", id=f"edit-{name}", compact=True)
                    else:
                        # Not selected on focus: the dialog opens in the title, and a first key must not replace it.
                        yield Input(value=shown(values.get(name) or ""), id=f"edit-{name}", compact=True,
                                    select_on_focus=False)
            yield Label("Description")
            yield TextArea(shown(values.get("description") or "", multiline=True), id="edit-description",
                           soft_wrap=True)
            yield Label("", classes="dialog--error")
            yield Label(self.hint, id="dialog-keys", classes="dialog--hint")

    def on_mount(self) -> None:
        self.query_one(".dialog--error", Label).display = False
        self.query_one("#edit-title", Input).focus()

    def current(self) -> dict[str, str]:
        """Every field as it reads now; a field left as shown means the stored text itself (`kept`)."""
        found: dict[str, str] = {}
        for name, _ in self.FIELDS:
            widget = self.query_one(f"#edit-{name}")
            if isinstance(widget, Select):
                found[name] = "" if widget.is_blank() else str(widget.value)
            else:
                found[name] = kept(widget.value, self.values.get(name) or "")
        found["description"] = kept(self.query_one("#edit-description", TextArea).text,
                                    self.values.get("description") or "")
        return found

    def changes(self) -> dict[str, str]:
        return {name: value for name, value in self.current().items() if value != (self.values.get(name) or "")}

    def changed(self) -> bool:
        return bool(self.changes())

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if not self.seen():
            return
        changes = self.changes()
        if not changes:
            self.dismiss(f"{self.key}: nothing changed")
            return
        try:
            self.check(changes)
        except Refused as exc:
            self.error(str(exc))
            return
        self.send(changes)


class LinkDialog(_Dialog):
    """The detail view's `l`: an external reference (a GitHub issue, a FreshDesk ticket) and its label."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("ctrl+s", "save", "Add", id="link.save")]

    def __init__(self, key: str, *, check: Callable[[str, str | None], tuple[str, str]], submit: Submit) -> None:
        super().__init__(key, None, submit)
        self.check = check
        self.hint = "enter or ctrl+s adds it · esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="link"):
            yield Label(Content(shown(f"Link {self.key} to…")), classes="dialog--title")
            with Horizontal(classes="form--row"):
                yield Label("URL")
                yield Input(id="link-url", placeholder="https://github.com/org/repo/issues/12", compact=True)
            with Horizontal(classes="form--row"):
                yield Label("Label")
                yield Input(id="link-label", placeholder="optional: from the URL", compact=True)
            yield Label("", classes="dialog--error")
            yield Label(self.hint, id="dialog-keys", classes="dialog--hint")

    def on_mount(self) -> None:
        self.query_one(".dialog--error", Label).display = False

    def changed(self) -> bool:
        return any(self.query_one(f"#link-{name}", Input).value.strip() for name in ("url", "label"))

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if not self.seen():
            return
        try:
            link = self.check(self.query_one("#link-url", Input).value, self.query_one("#link-label", Input).value)
        except Refused as exc:
            self.error(str(exc))
            return
        self.send(link)


__all__ = ["ComposeDialog", "Confirm", "Draft", "EditDialog", "LinkDialog", "Outcome", "SnippetPicker", "Submit"]
