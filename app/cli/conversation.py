"""Command line for the conversation: `triageboard reply`, `note` and `link` (and `ticket edit` in app.cli.main).

Each is one call of the write path (`Service.reply`, `Service.note`,
`Service.link`). What the person typed is checked first, with the service's
own checks (`check_text`, `check_snippet`, `check_link`), so bad input is one
line on stderr and exit status 2; a refusal of the write itself (no such
ticket, no requester address) is exit status 1, as for every command.
"""

from __future__ import annotations

import sys
from typing import Callable, TypeVar

import click

from app.board.serialize import history_dict, ticket_dict
from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import Runtime, refuse
from app.service.conversation import MAX_TEXT, check_text
from app.service import Refused
from widgets.safe_text import shown

T = TypeVar("T")


def checked(check: Callable[[], T]) -> T:
    """The value of a check of the user's input; its refusal is bad usage (exit 2), not a refused write."""
    try:
        return check()
    except Refused as exc:
        refuse(str(exc), 2)


def words(text: str | None, dash: str | None, what: str) -> str | None:
    """The text from --text or, with `-`, standard input (None: neither was given)."""
    if dash is not None and dash != "-":
        refuse(f"unexpected argument {dash!r} (give the text with --text TEXT, or - to read standard input)", 2)
    if text == "-":
        dash, text = "-", None
    if dash == "-":
        if text is not None:
            refuse(f"give the {what} with --text or on standard input (-), not both", 2)
        try:
            text = sys.stdin.read(MAX_TEXT * 4 + 1)
        except UnicodeDecodeError:
            refuse("standard input is not UTF-8 text", 2)
    return text


@click.command("reply")
@click.argument("key")
@click.argument("dash", required=False, metavar="[-]")
@click.option("--text", help="what to write to the requester ('-': read it from standard input)")
@click.option("--snippet", metavar="NAME", help="a canned reply from notify.snippets (with --text: the text follows it)")
@click.option("--eta", help="the ETA to give (an `eta` snippet's {eta}; recorded as the triage answer)")
@click.option("--by", help="who writes [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True, help="print the reply's history entry as JSON")
@pass_runtime
def reply_command(runtime: Runtime, key: str, dash: str | None, text: str | None, snippet: str | None,
                  eta: str | None, by: str | None, as_json: bool) -> None:
    """Reply to KEY's requester: mailed from the outbox, recorded in the history, counted as a response."""
    service = runtime.service
    text = words(text, dash, "reply")
    if text is None and snippet is None:
        refuse("give the reply with --text TEXT, - (standard input) or --snippet NAME "
               f"(snippets: {', '.join(service.snippets) or 'none configured'})", 2)
    user = runtime.user(by)
    if snippet is not None:
        chosen = checked(lambda: service.check_snippet(snippet))
        if "eta" in chosen.sets and not (eta or "").strip() and not service.get(key).eta:
            refuse(f"snippet {snippet!r} gives an ETA: say which with --eta (e.g. --eta \"Friday\")", 2)
        if text is not None and text.strip():
            # The snippet, then the person's own words (the board's dialog does the same by inserting it).
            text = service.snippet_text(key, snippet, by=user, eta=eta) + "\n\n" + text
    text = checked(lambda: check_text(text, "reply", allow_empty=snippet is not None))
    sent = service.reply(key, text, by=user, snippet=snippet, eta=eta)
    if as_json:
        emit_json({**history_dict(sent.history), "ticket": ticket_dict(sent.ticket,
                                                                      support_status=service.status_of(sent.ticket)),
                   "set": sent.triage.reason if sent.triage is not None else None})
        return
    click.echo(shown(f"{sent.ticket.key}: reply to {sent.notification.recipient} queued "
                     f"({sent.notification.subject})"))
    if sent.triage is not None:
        click.echo(shown(f"{sent.ticket.key}: {sent.triage.reason}"))


@click.command("note")
@click.argument("key")
@click.argument("dash", required=False, metavar="[-]")
@click.option("--text", help="the note ('-': read it from standard input)")
@click.option("--by", help="who writes [default $TRIAGEBOARD_USER or $USER]")
@pass_runtime
def note_command(runtime: Runtime, key: str, dash: str | None, text: str | None, by: str | None) -> None:
    """Add an internal note to KEY: for the team only, never mailed."""
    text = words(text, dash, "note")
    if text is None:
        refuse("give the note with --text TEXT or - (standard input)", 2)
    text = checked(lambda: check_text(text, "note"))
    result = runtime.service.note(key, text, by=runtime.user(by))
    click.echo(f"{result.ticket.key}: internal note added (never mailed)")


@click.command("link")
@click.argument("key")
@click.argument("url")
@click.option("--label", help="what to call it [default: from the URL, e.g. 'GitHub issue org/repo#12']")
@click.option("--by", help="who adds it [default $TRIAGEBOARD_USER or $USER]")
@pass_runtime
def link_command(runtime: Runtime, key: str, url: str, label: str | None, by: str | None) -> None:
    """Link KEY to an external reference (a GitHub issue or PR, a FreshDesk ticket): http, https or mailto."""
    service = runtime.service
    url, label = checked(lambda: service.check_link(url, label))
    result = service.link(key, url, label=label, by=runtime.user(by))
    click.echo(shown(f"{result.ticket.key}: linked {label} <{url}>"))


def register(group: click.Group) -> None:
    """Add `reply`, `note` and `link` to the command line (app.cli.main imports this module when one is used)."""
    group.add_command(reply_command)
    group.add_command(note_command)
    group.add_command(link_command)
