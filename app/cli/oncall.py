"""On-call commands: `oncall`, `oncall export`, `ack` and `escalate`.

Added to the `cli` group by `register` when one of them is used (app/cli/main.py, `LazyGroup`). The roster needs only the config; `ack` and `escalate` write through
the service like every other change.

For tests, `TRIAGEBOARD_NOW` (ISO 8601; without an offset it is the board's
time zone) fixes the clock (`app.cli.runtime.now`) these commands use: the roster's default instant,
the export's default range, the time of an acknowledgement and of each page.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import NOW_ENV, Runtime, now, parse_instant, refuse
from app.oncall.ics import export_ics, roster_shifts
from app.oncall.roster import RosterRow, holders_in_words, roster_rows
from app.cli.rounds import run_rounds

EXPORT_WEEKS = 8


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        refuse(f"{what}: expected a date such as 2026-12-21, got {text!r}", 2)


def service_with_clock(runtime: Runtime):
    """The runtime's service, on the fixed clock when `TRIAGEBOARD_NOW` is set."""
    service = runtime.service
    if os.environ.get(NOW_ENV):
        fixed = now(runtime).replace(tzinfo=None)
        service.clock = lambda: fixed
    return service


# -- the roster ------------------------------------------------------------

@click.group(invoke_without_command=True)
@click.option("--at", "at_text", metavar="ISO-8601",
              help="the instant to ask about [default: now; without an offset, the board's time zone]")
@click.option("--json", "as_json", is_flag=True, help='print {"at": ..., "rotations": {name: [handles]}}')
@click.pass_context
def oncall(ctx: click.Context, at_text: str | None, as_json: bool) -> None:
    """Who holds each rotation, and the next handoffs."""
    if ctx.invoked_subcommand is not None:
        return
    runtime: Runtime = ctx.find_object(Runtime)
    tz = runtime.config.board.tz
    at = parse_instant(at_text, tz, "--at") if at_text else now(runtime)
    rows = roster_rows(runtime.config.oncall, at)
    if as_json:
        emit_json({"at": at.astimezone(tz).isoformat(),
                   "rotations": {row.rotation: list(row.on_duty) for row in rows}})
        return
    click.echo(f"On call at {_local(at, tz)} ({runtime.config.board.timezone})")
    if not rows:
        click.echo("no rotations configured")
        return
    table = [("ROTATION", "ON DUTY", "NEXT HANDOFF", "INCOMING")]
    table += [(row.rotation, _on_duty_text(row, tz), _local(row.next_handoff, tz) if row.next_handoff else "-",
               ", ".join(row.incoming) or "-") for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3])


def _on_duty_text(row: RosterRow, tz: ZoneInfo) -> str:
    """"bob (covering dan until Mon 2026-12-28 09:00)": overrides are marked."""
    return ", ".join(holders_in_words(row, lambda instant: _local(instant, tz))) or "nobody"  # outside its active hours


def _local(instant: dt.datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%a %Y-%m-%d %H:%M}"


@oncall.command("export")
@click.option("--ics", "ics_file", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path), help="the iCalendar file to write")
@click.option("--from", "from_text", metavar="DATE", help="first day [default: today]")
@click.option("--to", "to_text", metavar="DATE", help=f"day after the last [default: {EXPORT_WEEKS} weeks after --from]")
@click.option("--member", metavar="HANDLE", help="only this member's shifts")
@click.option("--rotation", "rotations", multiple=True, metavar="NAME", help="only this rotation (repeatable)")
@pass_runtime
def oncall_export(runtime: Runtime, ics_file: Path, from_text: str | None, to_text: str | None,
                  member: str | None, rotations: tuple[str, ...]) -> None:
    """Write the roster as an iCalendar file: one event per member per shift.

    UIDs are stable, so importing a fresh export updates a calendar instead of
    duplicating it.
    """
    config = runtime.config
    start = parse_date(from_text, "--from") if from_text else now(runtime).astimezone(config.board.tz).date()
    end = parse_date(to_text, "--to") if to_text else start + dt.timedelta(weeks=EXPORT_WEEKS)
    if end <= start:
        refuse("--to must be after --from", 2)
    if member is not None and config.member(member) is None:
        refuse(f"unknown team member {member!r} (team: {', '.join(config.handles)})")
    names = [r.name for r in config.oncall.rotations]
    for name in rotations:
        if name not in names:
            refuse(f"unknown rotation {name!r} (rotations: {', '.join(names) or 'none'})")
    selected = rotations or None
    count = len(roster_shifts(config.oncall, start, end, member=member, rotations=selected))
    ics_file.write_bytes(export_ics(config.oncall, start, end, member=member, rotations=selected))
    click.echo(f"wrote {count} shifts from {start} to {end} to {ics_file}", err=True)


# -- acknowledgement and escalation ----------------------------------------

@click.command()
@click.argument("key")
@click.option("--by", metavar="HANDLE", help="who takes the page [default $TRIAGEBOARD_USER or $USER]")
@pass_runtime
def ack(runtime: Runtime, key: str, by: str | None) -> None:
    """Acknowledge KEY's page: its escalation stops."""
    ticket = service_with_clock(runtime).acknowledge(key, by=runtime.user(by))
    click.echo(f"{ticket.key} acknowledged by {ticket.ack_by}")


@click.command()
@click.option("--once", is_flag=True, help="send every step due now and exit")
@click.option("--poll", default=15.0, show_default=True, metavar="SECONDS",
              help="the longest sleep between checks (new pages are found this often)")
@pass_runtime
def escalate(runtime: Runtime, once: bool, poll: float) -> None:
    """Run the escalation clock: page primary, then backup, then lead until acknowledged.

    Without --once it runs until Ctrl+C, sleeping until the next step falls
    due or the poll interval passes, whichever is first.
    """
    service = service_with_clock(runtime)
    tz = runtime.config.board.tz
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop is as clean as Ctrl+C

    def round_() -> float:
        service.post_chat_due()  # handoffs, the daily summary, new P1s (`notify` rounds write them too)
        for page in service.escalate_due():
            due = page.due_at.replace(tzinfo=dt.timezone.utc).astimezone(tz)
            click.echo(f"{page.key}: paged {', '.join(page.paged)} (step {page.step + 1}, {page.rotation}, "
                       f"due {due:%Y-%m-%d %H:%M %Z})")
        wake = service.next_escalation_at()
        delay = poll if wake is None else (wake - service.clock()).total_seconds()
        return min(poll, max(delay, 0.5))

    try:
        if once:
            round_()
            return
        run_rounds("escalate", round_)
    except KeyboardInterrupt:
        click.echo("triageboard: escalation stopped", err=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def register(group: click.Group) -> None:
    """Add `oncall`, `ack` and `escalate` to the top-level group."""
    group.add_command(oncall)
    group.add_command(ack)
    group.add_command(escalate)
