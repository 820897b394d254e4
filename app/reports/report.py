"""The cycle report, wired: config + database in, `app.reports.metrics.Report` out.

`app.reports.metrics` is pure and `data.reporting` only reads; this module joins
them the one way the command line and the reports screen both need, so the
two can never disagree about a figure: the period's tickets come from
`fetch_period`, the stale threshold from `report.stale_after` counted on the
`sla:` business calendar, and "now" cuts a cycle that is still running.
No Textual here: the screen calls `gather` from a thread worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from app.config.settings import Config
from app.reports.cycles import Period, cycle_number, cycle_period
from app.reports.fairness import FIGURES, Fairness, fairness, oncall_hours
from app.reports.metrics import DAY, Report, compute_report
from app.board.stale import stale_rule
from data import reporting
from data.models import utcnow
from data.reporting import PeriodHistory

CSV_COLUMNS = ("key", "title", "kind", "work_type", "assignee", "created", "first_in_progress", "closed",
               "lead_hours", "cycle_hours", "column", "days_in_column")
"""The `--csv` header: one row per ticket closed in the period or open at its end."""


class CycleReport(msgspec.Struct, frozen=True):
    """A report and what it was built from (the rows behind `--csv` need the tickets' facts)."""

    report: Report
    history: PeriodHistory
    cycle: int | None
    """The cycle's number when the period is a whole cycle, else None."""
    sla: dict[str, Any] | None = None
    """Response-target compliance of the tickets closed in the period (see `sla_compliance`)."""
    fairness: Fairness | None = None
    """Each person's on-call hours, pages and support tickets in the period (see `load_of`)."""


def cycle_of(config: Config, number: int) -> Period:
    return cycle_period(config.report, number, config.board.timezone)


def current_cycle_number(config: Config, now: dt.datetime | None = None) -> int:
    return cycle_number(config.report, now or utcnow(), config.board.timezone)


def number_of(config: Config, period: Period) -> int | None:
    """The cycle number when `period` is exactly one cycle, so a `--from/--to` report can still name it."""
    number = cycle_number(config.report, period.start_utc, config.board.timezone)
    return number if cycle_of(config, number) == period else None


def gather(config: Config, period: Period, now: dt.datetime | None = None) -> CycleReport:
    """Query the period and compute every figure; `now` is naive UTC (default: the clock)."""
    workflow = config.workflow
    history = reporting.fetch_period(period.start_utc, period.end_utc, workflow.keys, workflow.final)
    report = compute_report(history.tickets, period, workflow, config.report, now=now or utcnow(),
                            closed_elsewhere=history.closed_elsewhere, stale_from=stale_rule(config))
    return CycleReport(report=report, history=history, cycle=number_of(config, period),
                       sla=sla_compliance(config, [c.key for c in report.closed], report.as_of),
                       fairness=load_of(config, period, report.as_of))


def load_of(config: Config, period: Period, as_of: dt.datetime) -> Fairness:
    """The fairness figures over the period, up to `as_of` (naive UTC) for the cycle still running.

    Support tickets are those whose work type (own field, else the kind's default) is "support".
    """
    end = min(period.end_utc, as_of)
    facts = reporting.fetch_load(period.start_utc, end)
    utc = dt.timezone.utc
    oncall = config.oncall
    hours = oncall_hours(oncall.rotations, oncall.overrides, period.start_utc.replace(tzinfo=utc),
                         max(end, period.start_utc).replace(tzinfo=utc))

    def support(rows):
        return [handle for kind, work_type, handle in rows
                if config.report.work_type(kind, work_type) == "support"]

    return fairness(config.handles, hours, facts.pages, support(facts.asked), support(facts.assigned))


def sla_compliance(config: Config, closed_keys: list[str], as_of: dt.datetime) -> dict[str, Any] | None:
    """For the tickets closed in the period: how many met each response target, and how many did not.

    Closing freezes a ticket's targets (app.sla.targets), so evaluating them at the
    report's as-of instant gives the verdict they had when they closed. A
    target met late counts as missed: that is what a retro wants to see.
    """
    if config.sla is None:
        return None
    from app.sla.source import statuses

    ids = reporting.ids_by_key(closed_keys)
    found = statuses(config, list(ids.values()), as_of)
    result: dict[str, Any] = {"tickets": len(found)}
    for name in ("first_response", "update_every"):
        verdicts = [getattr(status, name) for status in found.values()]
        met = sum(1 for target in verdicts if target.state == "met" and not target.late)
        result[name] = {"met": met, "missed": len(verdicts) - met,
                        "percent": round(100 * met / len(verdicts), 1) if verdicts else None}
    return result


def compliance_text(sla: dict[str, Any] | None) -> str | None:
    """"first response 1/2 (50.0%) · update every 2/2 (100.0%)", or None with no ticket closed."""
    if not sla or not sla["tickets"]:
        return None
    return " · ".join(f"{name.replace('_', ' ')} {sla[name]['met']}/{sla['tickets']} ({sla[name]['percent']}%)"
                      for name in ("first_response", "update_every"))


def build_report(config: Config, period: Period, now: dt.datetime | None = None) -> Report:
    return gather(config, period, now).report


def report_json(result: CycleReport) -> dict[str, Any]:
    """`Report.as_json()` plus the cycle number (None for a period that is not one cycle)."""
    return {**result.report.as_json(), "cycle": result.cycle, "sla_compliance": result.sla,
            "fairness": result.fairness.as_json() if result.fairness is not None else None}


def fairness_rows(result: CycleReport) -> list[tuple[str, ...]]:
    """The fairness table as text cells, header first and the spread last (the CLI and the screen share it)."""
    if result.fairness is None:
        return []
    rows = [("PERSON", "ON-CALL H", "PAGES", "ASKED", "ASSIGNED")]
    for handle, load in result.fairness.people.items():
        rows.append((handle, f"{load.oncall_hours:g}", str(load.pages), str(load.asked), str(load.assigned)))
    rows.append(("spread", *(f"{result.fairness.spread[name]:g}" for name in FIGURES)))
    return rows


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.replace(tzinfo=dt.timezone.utc).isoformat()


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _title(workflow, state: str) -> str:
    """A column's title; a state since removed from the config shows as its key."""
    try:
        return workflow.column(state).title
    except KeyError:
        return state


def csv_rows(result: CycleReport, config: Config) -> list[dict[str, str]]:
    """Per-ticket rows for a spreadsheet: closed in the period first (by close), then open work (by age).

    "column" and "days_in_column" are taken at the report's as-of instant
    (the period's end, or now for the running cycle): for a closed ticket,
    the final column since its close.
    """
    report = result.report
    facts = {t.key: t for t in result.history.tickets}
    keys = [t.key for t in report.closed] + [t.key for t in report.ageing]
    titles = reporting.titles(keys)
    workflow = config.workflow
    final = workflow.column(workflow.final).title
    rows = []
    for t in report.closed:
        fact = facts[t.key]
        rows.append({"key": t.key, "title": titles.get(t.key, ""), "kind": fact.kind, "work_type": t.work_type,
                     "assignee": t.assignee or "", "created": _iso(t.created), "first_in_progress": _iso(t.started),
                     "closed": _iso(t.closed), "lead_hours": _hours(t.lead_hours),
                     "cycle_hours": _hours(t.cycle_hours), "column": final,
                     "days_in_column": f"{(report.as_of - t.closed) / DAY:.2f}"})
    for t in report.ageing:
        fact = facts[t.key]
        rows.append({"key": t.key, "title": titles.get(t.key, ""), "kind": fact.kind, "work_type": t.work_type,
                     "assignee": t.assignee or "", "created": _iso(fact.created),
                     "first_in_progress": _iso(t.started), "closed": "", "lead_hours": "", "cycle_hours": "",
                     "column": _title(workflow, t.state), "days_in_column": f"{t.days_in_column:.2f}"})
    return rows


__all__ = ["CSV_COLUMNS", "CycleReport", "build_report", "csv_rows", "fairness_rows", "load_of", "current_cycle_number", "cycle_of", "gather",
           "number_of", "report_json", "stale_rule", "compliance_text"]
