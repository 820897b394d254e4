"""`triageboard notify` (deliver the outbox) and `triageboard inbound` (read a mail).

`notify` is what cron or a service manager runs; `inbound` is what a mail
alias pipes into (`support: "|triageboard inbound"`). Both follow the
command line's contract: 0 on success, 1 refused, 2 bad usage or
configuration, one line on stderr for each problem.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import Runtime, refuse
from app.notify.delivery import Deliverer, Report
from app.notify import quarantine
from app.notify.inbound import MAX_BYTES, NotAMessage, parse_reply
from app.cli.rounds import run_rounds
from app.board.ordering import priority_label
from app.board.serialize import attachment_dict, iso
from data import outbox as outbox_data
from data.models import Notification, Ticket, utcnow
from widgets.safe_text import shown


def _label(row: Notification) -> str:
    ticket = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
    return f"{ticket.key if ticket else '-'} {row.kind} to {row.recipient}"


def _print_report(report: Report) -> None:
    counts = outbox_data.outbox_counts()
    click.echo(f"notify: {report.summary()}; {counts['pending']} pending, {counts['failed']} failed in all")
    for row, error in report.failed:
        click.echo(shown(f"triageboard: failed: {_label(row)}: {error}"), err=True)
    for row, error in report.retrying:
        click.echo(shown(f"triageboard: will retry: {_label(row)}: {error}"), err=True)


def _stop_requests() -> threading.Event:
    """Ctrl+C (or a service manager's SIGTERM) asks the loop to stop after the current round.

    Stopping between rounds, not mid-send, keeps a message the server just
    accepted from going unmarked (and being sent twice). A second Ctrl+C
    stops at once.
    """
    stop = threading.Event()

    def request(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, request)
    signal.signal(signal.SIGTERM, request)
    return stop


@click.command()
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
@click.option("--retry-failed", is_flag=True, help="requeue failed messages with fresh attempts, then exit")
@click.option("--status", "show_status", is_flag=True, help="count pending, failed and sent messages, then exit")
@click.option("--json", "as_json", is_flag=True, help="with --status: print the counts (and failures) as JSON")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, metavar="SECONDS",
              help="without --once: how often to look for due messages")
@pass_runtime
def notify(runtime: Runtime, once: bool, retry_failed: bool, show_status: bool, as_json: bool,
           interval: float) -> None:
    """Deliver the outbox by SMTP (and the webhook); without --once, until Ctrl+C."""
    service = runtime.service
    if show_status:
        counts = outbox_data.outbox_counts(include_sent=True)
        failed = outbox_data.failed_rows()
        if as_json:
            emit_json({**counts, "failures": [{"ticket": _label(r).split(" ", 1)[0], "kind": r.kind,
                                               "recipient": r.recipient, "subject": r.subject,
                                               "attempts": r.attempts, "last_error": r.last_error,
                                               "created": iso(r.created)} for r in failed],
                       "chat": outbox_data.chat_counts()})
            return
        click.echo(f"pending {counts['pending']}, failed {counts['failed']}, sent {counts['sent']}")
        for name, each in outbox_data.chat_counts().items():
            click.echo(f"  {name}: pending {each['pending']}, failed {each['failed']}, sent {each['sent']}")
        for row in failed:
            click.echo(shown(f"  failed: {_label(row)}: {row.subject} ({row.attempts} attempts: {row.last_error})"))
        return
    if retry_failed:
        count = outbox_data.requeue_failed(utcnow())
        click.echo(f"requeued {count} failed message{'s' if count != 1 else ''}")
        return
    try:
        service.config.notify.smtp.password()
    except ValueError as exc:
        refuse(str(exc), 2)
    deliverer = Deliverer(service.config, before_round=service.post_chat_due)
    if once:
        _print_report(deliverer.run_once())
        return
    stop = _stop_requests()
    smtp = service.config.notify.smtp
    click.echo(f"notify: delivering to {smtp.host}:{smtp.port} every {interval:g}s; Ctrl+C stops", err=True)

    def round_() -> float:
        report = deliverer.run_once()
        if report.sent or report.retrying or report.failed:
            _print_report(report)
        return interval

    try:
        run_rounds("notify", round_, stop=stop)
    except KeyboardInterrupt:
        pass
    click.echo("notify: stopped", err=True)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="print what was recorded as JSON")
@click.pass_context
def inbound(ctx: click.Context, as_json: bool) -> None:
    """Record one mail (an RFC 822 message on standard input): a reply on its ticket, or a new ticket.

    The ticket is found by In-Reply-To/References or the [KEY] in the
    subject. A ticket waiting on the requester (Pending) goes back to work,
    and the assignee is told. A mail from an unknown sender (neither
    the requester, nor a team member, nor a sender accepted on the ticket
    before) is held on the ticket: `inbound accept KEY ID` applies it.
    A mail that matches no ticket opens one in the first column when
    config.yaml has an `intake:` section, and is refused (exit 1) otherwise.
    A mail that cannot be read is refused and kept in the quarantine folder.
    """
    if ctx.invoked_subcommand is not None:
        return
    runtime = ctx.find_object(Runtime)
    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        mail = parse_reply(data)
    except NotAMessage as exc:
        if not data.strip():
            refuse(str(exc), 2)
        config = runtime.config
        try:
            kept = quarantine.keep(data, sys.stdin.buffer, quarantine.folder(config.notify.quarantine, config.path),
                                   utcnow())
        except OSError as error:
            refuse(f"message refused: {exc}; could not keep it: {error.strerror or error}", 1)
        refuse(f"message refused: {exc}; kept in {kept}", 1)
    try:
        result = runtime.service.receive_mail(mail, data)
    except OSError as exc:  # the attachments folder: full, or not writable
        refuse(f"message refused: cannot save its attachments: {exc.strerror or exc}"
               f"{': ' + str(exc.filename) if exc.filename else ''}", 1)
    report_mail(runtime, result, as_json)


def report_mail(runtime: Runtime, result: Any, as_json: bool) -> None:
    """One mail's outcome (`IntakeResult`), as `inbound` and `fetch-mail` print it."""
    if result.reply is not None:
        _report(runtime, result.reply, as_json)
        return
    ticket = result.ticket
    if as_json:
        emit_json({"ticket": ticket.key, "created": result.created, "duplicate": result.duplicate,
                   "route": result.route or None, "automatic": result.automatic or None,
                   "acknowledged": result.acknowledgement.recipient if result.acknowledgement else None,
                   "attachments": [attachment_dict(a) for a in result.attachments],
                   "state": ticket.state, "priority": priority_label(ticket.priority) if ticket.priority else None,
                   "support_status": runtime.service.status_of(ticket)})
        return
    if result.duplicate:
        click.echo(shown(f"{ticket.key}: this message was already recorded"))
        return
    column = runtime.service.workflow.column(ticket.state).title
    parts = [f"{ticket.key}: new ticket in {column} from {ticket.requester_email or ticket.requester_name or 'mail'}"]
    if ticket.priority:
        parts.append(f"{priority_label(ticket.priority)} ({ticket.kind}, sent to {result.route})" if result.route
                     else priority_label(ticket.priority))
    if result.attachments:
        parts.append(f"{len(result.attachments)} attachment{'s' if len(result.attachments) != 1 else ''}")
    if result.automatic:
        parts.append(f"automatic mail ({result.automatic}): nothing sent back")
    elif result.acknowledgement:
        parts.append(f"acknowledgement to {result.acknowledgement.recipient} queued")
    click.echo(shown("; ".join(parts)))


def _report(runtime: Runtime, result: Any, as_json: bool) -> None:
    ticket = result.ticket
    if as_json:
        emit_json({"ticket": ticket.key, "comment": result.comment.id, "duplicate": result.duplicate,
                   "held": result.held, "not_moved": result.not_moved or None,
                   "moved": ({"from": result.moved.history.from_state, "to": result.moved.history.to_state}
                             if result.moved else None),
                   "notified": result.notified.recipient if result.notified else None,
                   "support_status": runtime.service.status_of(ticket)})
        return
    if result.duplicate:
        click.echo(shown(f"{ticket.key}: this message was already recorded" + (" (held)" if result.held else "")))
        return
    if result.held:
        click.echo(shown(f"{ticket.key}: mail from an unknown sender ({result.comment.by}) held, not applied; "
                         f"accept it with: triageboard inbound accept {ticket.key} {result.comment.id} --by HANDLE"))
        return
    parts = [f"{ticket.key}: reply from {result.comment.by} recorded"]
    if result.moved:
        h = result.moved.history
        parts.append(f"{h.status_before} -> {h.status_after}")
    elif result.not_moved:
        parts[0] += f", but not moved because {result.not_moved.removeprefix(ticket.key + ': ')}"
    if result.notified:
        parts.append(f"{result.notified.recipient} notified")
    click.echo(shown("; ".join(parts)))  # the sender's name is the mail's


@inbound.command("accept")
@click.argument("key")
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--by", help="the team member accepting it (default $TRIAGEBOARD_USER, then $USER)")
@click.option("--json", "as_json", is_flag=True, help="print what was recorded as JSON")
@pass_runtime
def inbound_accept(runtime: Runtime, key: str, entry_id: int, by: str | None, as_json: bool) -> None:
    """Accept mail KEY holds from an unknown sender (ID from `ticket show`) as the requester's reply.

    It then does what a reply does (a Pending ticket goes back to work, the
    assignee is told), and its sender becomes a participant of the ticket.
    """
    by = runtime.user(by)
    if runtime.config.member(by) is None:
        refuse(f"unknown team member {by!r}: --by takes a team: handle", 2)
    _report(runtime, runtime.service.accept_held(key, entry_id, by=by), as_json)


def register(group: click.Group) -> None:
    """Add `notify` and `inbound` to the command line (app.cli.main imports this module when one is used)."""
    group.add_command(notify)
    group.add_command(inbound)
