"""Command line for triage: `triageboard triage KEY ...` and `triageboard assign KEY ...`.

Both go through the one write path (`Service.triage`, `Service.route`,
`Service.assign`, `Service.suggest_assignee`). Vocabulary is checked here so a
wrong word is one line on stderr naming the accepted words, exit status 2.
"""

from __future__ import annotations

from typing import Any

import click

from app.triage import rules
from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import Runtime, refuse
from app.config.settings import KINDS
from app.board.ordering import BUG_CLASSES
from app.board.serialize import ticket_dict
from widgets.safe_text import shown

_WORDS = {
    "impact": rules.IMPACTS,
    "urgency": rules.URGENCIES,
    "users": rules.USERS_AFFECTED,
    "frequency": rules.FREQUENCIES,
    "reproducible": rules.REPRODUCIBLE,
    "actionable": rules.ACTIONABLE,
    "kind": KINDS,
    "bug_class": BUG_CLASSES,
}


def _word(option: str, value: str | None) -> str | None:
    """A vocabulary word, or exit 2 naming the accepted ones."""
    if value is None:
        return None
    word = value.strip().lower()
    allowed = _WORDS[option]
    if word not in allowed:
        refuse(f"--{option.replace('_', '-')}: {value!r} is not one of {', '.join(allowed)}", 2)
    return word


def _metavar(option: str) -> str:
    return "[" + "|".join(_WORDS[option]) + "]"


@click.command("triage")
@click.argument("key")
@click.option("--impact", metavar=_metavar("impact"))
@click.option("--urgency", metavar=_metavar("urgency"))
@click.option("--users", metavar=_metavar("users"), help="many users, or a subset? (2i2c)")
@click.option("--frequency", metavar=_metavar("frequency"), help="always, or intermittent? (2i2c)")
@click.option("--down/--not-down", "service_down", default=None, help="is the service totally down? (2i2c)")
@click.option("--deadline", metavar="DATE", help="event or deadline date (ISO); a near one raises urgency; '' clears")
@click.option("--reproducible", metavar=_metavar("reproducible"))
@click.option("--actionable", metavar=_metavar("actionable"), help="does it hold enough to start?")
@click.option("--acknowledged/--not-acknowledged", default=None, help="expectations set with the requester")
@click.option("--next-steps-sent/--no-next-steps-sent", "next_steps_sent", default=None)
@click.option("--eta", help="the ETA given to the requester; '' clears")
@click.option("--priority", metavar="P1..P4", help="override the matrix (sticks until --clear-override)")
@click.option("--clear-override", is_flag=True, help="return the priority to the matrix")
@click.option("--background", help="intake: background and context")
@click.option("--impact-statement", help="intake: the impact in the requester's words")
@click.option("--extra-info", help="intake: anything else that helps solve or prioritise")
@click.option("--service", help="route to a service from the config ('' clears)")
@click.option("--team", help="route to a team ('' clears)")
@click.option("--kind", metavar=_metavar("kind"), help="feature converts a non-bug into a feature request")
@click.option("--bug-class", metavar=_metavar("bug_class"))
@click.option("--by", help="who triages [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True, help="print the ticket as JSON")
@pass_runtime
def triage_command(runtime: Runtime, key: str, by: str | None, as_json: bool, service: str | None,
                   team: str | None, kind: str | None, bug_class: str | None, priority: str | None,
                   clear_override: bool, **options: Any) -> None:
    """Set KEY's triage answers and routing; without options, show its triage."""
    if priority is not None and clear_override:
        refuse("--priority and --clear-override contradict each other; give one", 2)
    if priority is not None:
        try:
            from app.board.ordering import parse_priority
            parse_priority(priority)
        except ValueError as exc:
            refuse(f"--priority: {exc}", 2)
    answers: dict[str, Any] = {}
    for option, name in (("impact", "impact"), ("urgency", "urgency"), ("users", "users_affected"),
                         ("frequency", "frequency"), ("reproducible", "reproducible"), ("actionable", "actionable")):
        if options[option] is not None:
            answers[name] = _word(option, options[option])
    if options["deadline"] is not None:
        try:
            day = rules.parse_date(options["deadline"])
        except ValueError as exc:
            refuse(f"--deadline: {exc}", 2)
        answers["deadline"] = day
    for name in ("service_down", "acknowledged", "next_steps_sent", "eta", "background", "impact_statement",
                 "extra_info"):
        if options[name] is not None:
            answers[name] = options[name]
    kind = _word("kind", kind)
    bug_class = _word("bug_class", bug_class) if bug_class else bug_class

    svc = runtime.service
    who = runtime.user(by)
    warnings: list[str] = []
    if any(v is not None for v in (service, team, kind, bug_class)):
        svc.get(key)  # an unknown key is refused before anything is written
        svc.validate_fields(service=service or None, kind=kind, bug_class=bug_class or None)
    if answers or priority is not None or clear_override:
        result = svc.triage(key, by=who, priority=priority, clear_override=clear_override, **answers)
        warnings.extend(result.warnings)
    if any(v is not None for v in (service, team, kind, bug_class)):
        svc.route(key, by=who, service=service, team=team, kind=kind, bug_class=bug_class)
    ticket = svc.get(key)
    for warning in warnings:
        click.echo(f"triageboard: warning: {shown(warning)}", err=True)
    if as_json:
        emit_json(ticket_dict(ticket, support_status=svc.status_of(ticket)))
        return
    click.echo(shown(f"{ticket.key}  {ticket.title}"))
    for row in rules.panel_rows(ticket, svc.config.triage, svc.today()):
        click.echo(shown(f"  {row.question:<55} {row.answer}"))
    gaps = svc.triage_missing(ticket)
    click.echo(f"  ready to move on: {'yes' if not gaps else 'no, missing ' + ', '.join(gaps)}")


@click.command("assign")
@click.argument("key")
@click.argument("handle", required=False)
@click.option("--suggest", is_flag=True, help="ask the fair choice: least open work, not the last one asked")
@click.option("--only-suggest", is_flag=True, help="with --suggest: record and print the suggestion, do not assign")
@click.option("--unassign", is_flag=True, help="remove the assignee")
@click.option("--by", help="who assigns [default $TRIAGEBOARD_USER or $USER]")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def assign_command(runtime: Runtime, key: str, handle: str | None, suggest: bool, only_suggest: bool,
                   unassign: bool, by: str | None, as_json: bool) -> None:
    """Assign KEY to HANDLE, or to the fair suggestion with --suggest."""
    if sum((handle is not None, suggest, unassign)) != 1:
        refuse("give exactly one of HANDLE, --suggest or --unassign", 2)
    if only_suggest and not suggest:
        refuse("--only-suggest goes with --suggest", 2)
    svc = runtime.service
    who = runtime.user(by)
    suggestion = None
    if suggest:
        suggestion = svc.suggest_assignee(key, by=who)
        handle = suggestion.handle
        if only_suggest:
            if as_json:
                emit_json({"key": suggestion.ticket.key, "suggested": handle, "open_work": suggestion.open_work,
                           "last_asked": suggestion.last_asked})
            else:
                click.echo(f"{suggestion.ticket.key}: ask {handle} ({_why(suggestion)})")
            return
    result = svc.assign(key, None if unassign else handle, by=who)
    for warning in result.warnings:
        click.echo(f"triageboard: warning: {shown(warning)}", err=True)
    if as_json:
        data = ticket_dict(result.ticket, support_status=svc.status_of(result.ticket))
        if suggestion is not None:
            data["suggestion"] = {"open_work": suggestion.open_work, "last_asked": suggestion.last_asked}
        emit_json(data)
        return
    why = f" ({_why(suggestion)})" if suggestion is not None else ""
    click.echo(f"{result.ticket.key}: assigned to {result.ticket.assignee}{why}" if result.ticket.assignee
               else f"{result.ticket.key}: unassigned")


def _why(suggestion: Any) -> str:
    mine = suggestion.open_work.get(suggestion.handle, 0)
    skipped = f"; {suggestion.last_asked} was asked last" if suggestion.last_asked else ""
    return f"{mine} open ticket{'s' if mine != 1 else ''}, the fewest{skipped}"


def register(group: click.Group) -> None:
    """Add the triage commands to the top-level group (one line in app.cli.main)."""
    group.add_command(triage_command)
    group.add_command(assign_command)
