"""The command line: what scripts (the support desk, a mail pipe, cron) call.

The names are a contract (see the README). Exit status 0 on success, 1 when
the request was refused (a forbidden move, an unknown key), 2 for bad usage or
bad configuration; a refusal is one line on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from app.config.settings import KINDS
from app.cli.collector import started
from app.board.ordering import BUG_CLASSES, parse_priority, priority_label
from app.board.serialize import attachment_dict, ticket_dict
from app.sla.labels import FILTERS, TARGET_TITLES, card_sla, sla_json, target_text
from app.sla.source import statuses
from app.cli.common import emit_json, local_time, pass_runtime
from app.cli.runtime import Runtime, open_board, refuse, run_guarded
from app.service import Refused
from app.board.workflow import HOLD_REASONS
from data.models import Attachment
from widgets.safe_text import json_safe, shown


class LazyGroup(click.Group):
    """Commands whose modules are imported when one of them is used (click's lazily loaded subcommands).

    Opening the board imports none of them: the calendar export alone
    (icalendar) cost the board's start a tenth of a second (commit "Start-up:
    command-line modules load with the command that needs them"). What would
    break it: a module-level import of a command module here or in
    `app.cli.runtime`. A new command group goes in its own module, listed in
    `LAZY` by each command name it defines, with a `register(group)` function.
    """

    LAZY = {"triage": "app.cli.triage", "assign": "app.cli.triage",
            "oncall": "app.cli.oncall", "ack": "app.cli.oncall", "escalate": "app.cli.oncall",
            "notify": "app.cli.notify", "inbound": "app.cli.notify", "fetch-mail": "app.cli.fetchmail",
            "report": "app.cli.report", "serve": "app.cli.serve", "passwd": "app.cli.passwd",
            "calendar": "app.cli.calendar",
            "reply": "app.cli.conversation", "note": "app.cli.conversation", "link": "app.cli.conversation",
            "sla": "app.cli.sla", "recount": "app.cli.maintenance"}
    """Command name -> the module that defines it and adds it in `register(group)`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.LAZY:
            module = importlib.import_module(self.LAZY[name])
            register = getattr(module, "register", None)
            if register is not None and name not in self.commands:
                register(self)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="TRIAGEBOARD_CONFIG", metavar="PATH",
              help="config.yaml to use [env TRIAGEBOARD_CONFIG; default ./config.yaml]")
@click.option("--db", "db_url", envvar="TRIAGEBOARD_DB", metavar="URL",
              help="sqlite:///FILE or postgresql://user@host/db [env TRIAGEBOARD_DB; "
                   "default an SQLite file beside the config]")
@click.version_option(package_name="triageboard", message="triageboard %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_url: str | None) -> None:
    """triageboard: a keyboard-driven Kanban board for support rotations.

    Without a command, opens the board.
    """
    ctx.obj = Runtime(config_path, db_url)
    if ctx.invoked_subcommand is None:
        open_board(ctx.obj)
    elif ctx.invoked_subcommand != "demo":  # the demo opens a board, which says when it has started
        started()


@cli.command()
@click.option("--fresh/--keep", default=True, help="start from an empty demo database (default) or keep the last one")
@click.option("--tickets", default=60, show_default=True, help="how many demo tickets")
@pass_runtime
def demo(runtime: Runtime, fresh: bool, tickets: int) -> None:
    """Open the board on a demo database with realistic tickets in every column.

    The demo always uses its own file (triageboard-demo.db beside the config),
    whatever --db or TRIAGEBOARD_DB say: trying the demo never writes demo
    tickets into a real board.
    """
    from app.board.demo import demo_database

    runtime.db_option = demo_database(runtime.config, fresh=fresh, count=tickets)
    open_board(runtime, demo=True)


# -- tickets ---------------------------------------------------------------

@cli.group()
def ticket() -> None:
    """Create, list and show tickets."""


@ticket.command("add")
@click.argument("title")
@click.option("--description", default="")
@click.option("--requester", "requester_email", default="", help="the requester's e-mail")
@click.option("--requester-name", default="")
@click.option("--service")
@click.option("--kind", type=click.Choice(KINDS), default="bug", show_default=True)
@click.option("--bug-class", type=click.Choice(BUG_CLASSES))
@click.option("--priority", help="P1..P4")
@click.option("--assignee", help="a team handle")
@click.option("--by", help="who files it [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True, help="print the new ticket as JSON")
@pass_runtime
def ticket_add(runtime: Runtime, title: str, priority: str | None, by: str | None, as_json: bool,
               **fields: Any) -> None:
    """Create a ticket in the first column."""
    service = runtime.service
    try:
        level = parse_priority(priority) if priority else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--priority") from None
    created = service.create(title=title, priority=level, by=runtime.user(by), **fields)
    if as_json:
        emit_json(ticket_dict(created, support_status=service.status_of(created)))
    else:
        click.echo(created.key)


@ticket.command("list")
@click.option("--state", help="a column key")
@click.option("--assignee")
@click.option("--limit", type=int, default=None, help="at most this many")
@click.option("--after", metavar="KEY", help="start just after this ticket in board order (paging for scripts)")
@click.option("--untriaged", is_flag=True, help="only tickets in the first column with triage to do")
@click.option("--sla", "sla_filter", type=click.Choice(list(FILTERS)),
              help="only open tickets whose next response target is breached, in warning, or either (at-risk)")
@click.option("--query", "search", metavar="QUERY",
              help='the board\'s filter language: words, "a phrase", field:value (assignee:bob state:on_hold '
                   'is:stale created:>2026-11-01 …), -term to negate')
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def ticket_list(runtime: Runtime, state: str | None, assignee: str | None, limit: int | None, after: str | None,
                untriaged: bool, sla_filter: str | None, search: str | None, as_json: bool) -> None:
    """List tickets, in board order (column, then priority of work)."""
    from app.service.reads import ticket_list as listed

    service = runtime.service
    workflow = service.workflow
    if state is not None and state not in workflow.keys:
        refuse(f"unknown state {state!r} (states: {', '.join(workflow.keys)})")
    where = []
    if search:
        where.append(_search_condition(runtime, search, paging=limit is not None))
    if sla_filter is not None:
        # The stored due instants (app.sla.due), an indexed comparison; the printed status is worked out below
        # for the tickets shown only.
        from app.sla.source import due_freshness
        from data.sla_due import condition, few_in

        stale = due_freshness(runtime.config, service.clock())
        if stale:
            click.echo(f"triageboard: {stale}", err=True)
        due = condition(sla_filter, service.clock())
        where.append(due)
    tickets = listed(workflow, state=state, assignee=assignee, untriaged=untriaged, open_only=sla_filter is not None,
                     after=after, limit=limit, where=[w for w in where if w is not None],
                     narrow=(lambda column: few_in(column, due)) if sla_filter is not None else None)
    at_risk = statuses(runtime.config, [t.id for t in tickets], service.clock()) if sla_filter else {}
    if as_json:
        emit_json([{**ticket_dict(t, support_status=service.status_of(t)),
                    **({"sla": sla_json(at_risk[t.id])} if sla_filter else {})} for t in tickets])
        return
    for t in tickets:
        sla = f"{card_sla(at_risk[t.id])[0]:<14} " if sla_filter else ""
        click.echo(shown(f"{t.key:<10} {workflow.column(t.state).title:<12} {priority_label(t.priority):<3} "
                         f"{(t.assignee or '-'):<8} {service.status_of(t):<21} {sla}{t.title}"))


def _search_condition(runtime: Runtime, text: str, *, paging: bool = False):
    """`--query` as a condition; a bad query exits 2 with the one line naming the term.

    `paging` with `--limit`: a common word is then probed card by card in board order (`data.search.where`)
    instead of every match's id read first (`--query login --limit 20` at 1,000,000: 1.8 s to 64 ms).
    """
    from app.board.filtering import search_where
    from app.board.query import QueryError
    from app.board.stale import stale_cutoff, stale_rule

    config = runtime.config
    now = runtime.service.clock()
    try:
        return search_where(text, config.workflow, tz=config.board.tz,
                            stale_before=lambda: stale_cutoff(now, stale_rule(config)),
                            now=lambda: now, paging=paging)
    except QueryError as exc:
        refuse(f"--query: {exc}", 2)


@ticket.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="the ticket with its history")
@pass_runtime
def ticket_show(runtime: Runtime, key: str, as_json: bool) -> None:
    """Show one ticket and its history."""
    service = runtime.service
    found = service.get(key)
    history = service.history(found)
    sla = statuses(runtime.config, [found.id], service.clock())[found.id]
    files = list(found.attachments.order_by(Attachment.id))
    if as_json:
        emit_json({**ticket_dict(found, support_status=service.status_of(found), history=history),
                   "sla": sla_json(sla), "attachments": [attachment_dict(a) for a in files]})
        return
    workflow = service.workflow
    click.echo(shown(f"{found.key}  {found.title}"))
    click.echo(f"  state: {workflow.column(found.state).title}   status: {service.status_of(found)}   "
               f"priority: {priority_label(found.priority)}   assignee: {shown(found.assignee or '-')}")
    if found.requester_email:
        click.echo(shown(f"  requester: {found.requester_name} <{found.requester_email}>"))
    if found.description:
        click.echo(textwrap.indent(shown(found.description, multiline=True), "  "))
    if files:
        click.echo("attachments:")
        root = runtime.config.intake.attachments_dir if runtime.config.intake else ""
        for a in files:
            where = str(Path(root) / a.path) if a.path else a.note
            click.echo(shown(f"  {a.name}  ({a.size:,} bytes, {a.content_type})  {where}"))
    click.echo("response targets:")
    for target in sla.targets:
        due = target.due.astimezone(runtime.config.board.tz)
        click.echo(f"  {TARGET_TITLES[target.name]:<24} due {due:%a %Y-%m-%d %H:%M %Z}  {target.state:<8} "
                   f"{target_text(target)}")
    links = service.links(found)
    if links:
        click.echo("links:")
        for link in links:
            click.echo(shown(f"  {link['label']}  <{link['url']}>"))
    click.echo("history:")
    for entry, line in zip(history, service.conversation(found)):
        arrow = f"{entry.from_state or ''} -> {entry.to_state}" if entry.to_state else ""
        at = local_time(entry.at, runtime.config.board.tz)
        kind = "INTERNAL" if line.internal else entry.kind
        what = line.headline if line.text or line.kind in ("link", "edit", "note") else entry.reason
        click.echo(shown(f"  {at:%Y-%m-%d %H:%M} {kind:<8} {arrow:<26} {entry.by:<8} {what}"))
        for text_line in line.text.splitlines():  # a mail, a reply or a note: its words, as written
            click.echo(shown(f"      {'| ' if line.internal else '> '}{text_line}"))
        if entry.kind == "held":  # mail from an unknown sender, waiting for a person
            click.echo(f"      held #{entry.id}: accept with `triageboard inbound accept {found.key} {entry.id}`")


@ticket.command("edit")
@click.argument("key")
@click.option("--title")
@click.option("--description", help="the whole new description ('-': read it from standard input)")
@click.option("--requester-name")
@click.option("--requester-email", "--requester", "requester_email", help="the requester's e-mail ('' clears it)")
@click.option("--kind", metavar="[" + "|".join(KINDS) + "]")
@click.option("--bug-class", metavar="[" + "|".join(BUG_CLASSES) + "]", help="'' clears it")
@click.option("--service", help="'' clears it")
@click.option("--team", help="'' clears it")
@click.option("--by", help="who edits [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True, help="print the edited ticket as JSON")
@pass_runtime
def ticket_edit(runtime: Runtime, key: str, by: str | None, as_json: bool, **fields: str | None) -> None:
    """Change what KEY says: one write, its before -> after in the history."""
    service = runtime.service
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        refuse("nothing to change: give --title, --description, --requester-name, --requester-email, --kind, "
               "--bug-class, --service or --team", 2)
    if changes.get("description") == "-":
        changes["description"] = sys.stdin.read()
    try:
        service.check_edit(changes)
    except Refused as exc:
        refuse(str(exc), 2)
    result = service.edit_ticket(key, changes, by=runtime.user(by))
    if as_json:
        emit_json(ticket_dict(result.ticket, support_status=service.status_of(result.ticket)))
    elif result.history is None:
        click.echo(f"{result.ticket.key}: nothing changed")
    else:
        for name, (before, after) in result.changes.items():
            click.echo(shown(f"{result.ticket.key}: {name.replace('_', ' ')}: {before or '-'} -> {after or '-'}"))


# -- moves -----------------------------------------------------------------

@cli.command()
@click.argument("key")
@click.argument("state")
@click.option("--reason", help="why (recorded in the history and told to the requester)")
@click.option("--hold-reason", type=click.Choice(HOLD_REASONS), help="for On Hold: requester (Pending) or external")
@click.option("--by", help="who moves it [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def move(runtime: Runtime, key: str, state: str, reason: str | None, hold_reason: str | None, by: str | None,
         as_json: bool) -> None:
    """Move KEY to STATE (a column key, or `solved` once Closed)."""
    service = runtime.service
    result = service.move(key, state, by=runtime.user(by), reason=reason, hold_reason=hold_reason)
    for warning in result.warnings:
        click.echo(f"triageboard: warning: {shown(warning)}", err=True)
    if as_json:
        emit_json(ticket_dict(result.ticket, support_status=service.status_of(result.ticket)))
    else:
        h = result.history
        click.echo(f"{result.ticket.key}: {h.from_state} -> {h.to_state} ({h.status_before} -> {h.status_after})")


@cli.command()
@click.argument("key")
@click.option("--by", help="who undoes it")
@pass_runtime
def undo(runtime: Runtime, key: str, by: str | None) -> None:
    """Undo KEY's last move with a compensating move back."""
    result = runtime.service.undo(key, by=runtime.user(by))
    h = result.history
    if h.kind == "move":
        click.echo(f"{result.ticket.key}: {h.from_state} -> {h.to_state} ({h.reason})")
    else:  # a triage answer, an assignment or Solved put back
        click.echo(f"{result.ticket.key}: {h.reason}")


# -- response targets ------------------------------------------------------

@cli.command()
@click.option("--once", is_flag=True, help="check once and exit (for cron), instead of looping")
@click.option("--every", "interval", type=click.IntRange(min=1), default=60, show_default=True, metavar="SECONDS",
              help="seconds between checks when looping")
@pass_runtime
def remind(runtime: Runtime, once: bool, interval: int) -> None:
    """Remind the assignee of tickets whose response target has entered its warning margin.

    One reminder per target (written to the outbox with a history entry), so
    running it again, or from cron, sends nothing twice. Loops until Ctrl+C
    unless --once.
    """
    from app.cli.rounds import run_rounds

    service = runtime.service

    def round_() -> float:
        for reminder in service.remind_due():
            due = reminder.due.astimezone(runtime.config.board.tz)
            click.echo(f"{reminder.key}: reminded {reminder.recipient} of the "
                       f"{TARGET_TITLES[reminder.target]} ({reminder.state}, due {due:%a %Y-%m-%d %H:%M %Z})")
        return interval

    if once:
        round_()
        return
    try:
        run_rounds("remind", round_)
    except KeyboardInterrupt:
        return


# -- import / export --------------------------------------------------------

@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default: from the file's extension")
@click.option("--page-open-p1", is_flag=True, help="keep unacknowledged P1s waiting for acknowledgement (escalate pages them)")
@pass_runtime
def import_(runtime: Runtime, file: Path, fmt: str | None, page_open_p1: bool) -> None:
    """Import tickets from CSV or JSON: all rows or none. Import never pages unless --page-open-p1."""
    from app.board.transfer import import_file
    from app.cli import collector

    with collector.held():
        count = import_file(runtime.service, file, fmt, page_open_p1=page_open_p1)
    click.echo(f"imported {count} ticket{'' if count == 1 else 's'}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="default: standard output")
@pass_runtime
def export(runtime: Runtime, fmt: str, output: Path | None) -> None:
    """Export every ticket (JSON includes the history)."""
    from app.board.transfer import export_csv, export_json

    from app.cli import collector

    writer = export_json if fmt == "json" else export_csv
    if output is None:
        with collector.held():
            writer(runtime.service, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as out, collector.held():
        count = writer(runtime.service, out)
    click.echo(f"exported {count} tickets to {output}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click parses the line; the domain's errors become exit codes and one line each."""
    run_guarded(lambda: cli.main(args=argv, prog_name="triageboard", standalone_mode=True))


if __name__ == "__main__":
    main()
