"""`triageboard report`: the cycle report for the two-weekly retro, as text, JSON or CSV rows.

Added to the `cli` group by `register` when it is used (app/cli/main.py, `LazyGroup`). The
figures come from `app.reports.report.gather`, the same call the reports screen
makes, so the command and the screen always agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import click

from app.cli.common import emit_json, local_time, pass_runtime
from app.cli.runtime import Runtime, refuse
from app.config.settings import Config
from app.reports.cycles import Period
from app.reports.metrics import Stat
from app.reports.report import (CSV_COLUMNS, CycleReport, compliance_text, csv_rows, fairness_rows, current_cycle_number, cycle_of, gather,
                         report_json)


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        refuse(f"{option}: {value!r} is not a date such as 2026-11-02", 2)


def choose_period(config: Config, now: dt.datetime, cycle: int | None, previous: bool,
                  start: str | None, end: str | None) -> Period:
    """The period the options name; a usage error is one line and exit status 2.

    A cycle number of 0 or more is absolute (cycle 0 starts on `report.start`);
    a negative one counts back from the current cycle, so `--cycle -1` is the
    previous cycle, like `--previous`.
    """
    if (start is None) != (end is None):
        refuse("--from and --to go together", 2)
    chosen = sum((cycle is not None, previous, start is not None))
    if chosen > 1:
        refuse("use one of --cycle N, --previous, or --from DATE --to DATE", 2)
    if start is not None and end is not None:
        first, last = _date(start, "--from"), _date(end, "--to")
        if last <= first:
            refuse(f"--to ({last}) must be after --from ({first}); --to is the day after the last day", 2)
        return Period(first, last, config.board.timezone)
    current = current_cycle_number(config, now)
    if previous:
        number = current - 1
    elif cycle is None:
        number = current
    elif cycle < 0:
        number = current + cycle
    else:
        number = cycle
    return cycle_of(config, number)


def _stat(stat: Stat) -> str:
    if not stat.count:
        return "no tickets"
    return (f"median {stat.median_hours:.1f} h ({stat.median_hours / 24:.1f} d) · "
            f"85th percentile {stat.p85_hours:.1f} h ({stat.p85_hours / 24:.1f} d) · {stat.count} tickets")


def print_text(result: CycleReport, config: Config, current: int) -> None:
    """A summary a person reads in a terminal; scripts use --json."""
    report = result.report
    workflow = config.workflow
    period = report.period
    last_day = period.end - dt.timedelta(days=1)
    name = f"Cycle {result.cycle}" if result.cycle is not None else "Period"
    as_of = local_time(report.as_of, config.board.tz)
    click.echo(f"{name}: {period.start:%a %d %b %Y} to {last_day:%a %d %b %Y} ({period.timezone}), "
               f"as of {as_of:%Y-%m-%d %H:%M}")
    if result.cycle is not None:
        click.echo(f"  the current cycle is {current}; other cycles: --cycle N, --previous, --cycle -2, …")
    click.echo(f"Throughput    {report.throughput} closed")
    click.echo(f"Lead time     {_stat(report.lead_time)}")
    click.echo(f"Cycle time    {_stat(report.cycle_time)}")
    met = compliance_text(result.sla)
    if met:
        click.echo(f"Targets met   {met} of the tickets closed")
    if report.cfd:
        _, counts = report.cfd[-1]
        wip = sum(counts[c] for c in report.wip_columns)
        parts = ", ".join(f"{workflow.column(c).title} {counts[c]}" for c in report.wip_columns)
        click.echo(f"WIP           {wip} now ({parts})")
        daily = [count for _, count in report.wip_by_day]
        click.echo(f"WIP by day    min {min(daily)} · max {max(daily)} · "
                   f"mean {sum(daily) / len(daily):.1f} over {len(daily)} days")
    click.echo("By work type")
    for name, split in report.by_work_type.items():
        click.echo(f"  {name:<12} {split.throughput:>4} closed · lead median {_hours(split.lead_time.median_hours)}"
                   f" · {split.wip} in progress")
    click.echo("By assignee")
    for name, split in report.by_assignee.items():
        click.echo(f"  {name:<12} {split.throughput:>4} closed · lead median {_hours(split.lead_time.median_hours)}"
                   f" · {split.wip} in progress")
    stale = ", ".join(report.stale) if report.stale else "none"
    click.echo(f"Stale ({len(report.stale)})     {stale}")
    rows = fairness_rows(result)
    if rows:
        click.echo("Fairness (on-call hours, pages, support tickets asked and assigned)")
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo("  " + "  ".join(cell.rjust(w) if i else cell.ljust(w)
                                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def write_csv(result: CycleReport, config: Config, target: Path) -> int:
    rows = csv_rows(result, config)
    if str(target) == "-":
        out = sys.stdout
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return len(rows)
    try:
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        refuse(f"--csv: cannot write {target}: {exc.strerror or exc}", 2)
    return len(rows)


@click.command()
@click.option("--cycle", type=int, metavar="N",
              help="cycle number (0 starts on report.start); negative counts back: -1 is the previous cycle")
@click.option("--previous", is_flag=True, help="the previous cycle (same as --cycle -1)")
@click.option("--from", "start", metavar="DATE", help="first day, e.g. 2026-11-02 (with --to)")
@click.option("--to", "end", metavar="DATE", help="the day AFTER the last day, like the JSON's `to` (with --from)")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True), metavar="FILE",
              help="also write one row per ticket (closed in the period, or open at its end); - for stdout")
@pass_runtime
def report(runtime: Runtime, cycle: int | None, previous: bool, start: str | None, end: str | None, as_json: bool,
           csv_file: Path | None) -> None:
    """Flow metrics for a cycle (default: the current one): throughput, lead and cycle time, WIP, stale work."""
    config = runtime.config
    now = runtime.service.clock()  # opens the database; a fixed clock (tests, replays) applies here too
    period = choose_period(config, now, cycle, previous, start, end)
    result = gather(config, period, now)
    if csv_file is not None:
        count = write_csv(result, config, csv_file)
        if str(csv_file) != "-":
            click.echo(f"wrote {count} rows to {csv_file}", err=True)
        else:
            return
    if as_json:
        emit_json(report_json(result))
    else:
        print_text(result, config, current_cycle_number(config, now))


def register(group: click.Group) -> None:
    """Add `report` to the top-level group."""
    group.add_command(report)


__all__ = ["choose_period", "register", "report"]
