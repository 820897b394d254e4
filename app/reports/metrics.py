"""Flow metrics for a period: the numbers a two-weekly retro looks at (seed 004).

Pure functions over plain values: each ticket comes with its creation and
its state moves, nothing else, so the figures can be checked by hand and the
same code serves the CLI, the reports screen and an imported history.
What each figure means, once, so a reader of the report need not read code:

- **The state at an instant T** is the one after every move made *before* T.
  "End of a day" is local midnight in the board's time zone, so a card
  closed at 23:59 counts as closed that day and one closed at 00:00 the next.
- **Closed in the period (throughput).** A ticket counts when it is in the
  final column at the period's end and entered it during the period. A
  ticket closed and reopened within the period, and not closed again, does
  not count; one closed twice in the period counts once; one closed in this
  period and reopened later still counts here (a past report never changes)
  and counts again in the period it is closed again. The close instant is
  its last entry into the final column.
- **Lead time** is created -> close. **Cycle time** is the first entry ever
  into the active column (In Progress) -> close, so rework after a reopen
  stays in it; a ticket that never reached In Progress (solved by support
  from To Do) has no cycle time and is left out of that figure's count.
- **Median** is the middle value (the mean of the two middle values for an
  even count), as a spreadsheet's MEDIAN gives. **85th percentile** is the
  nearest-rank value, as Jira's and Azure Boards' control charts use: sort
  the n values and take the ceil(0.85 x n)-th, so it is always a real
  ticket's time.
- **Work in progress** counts tickets in the columns after the first and
  before the final (Ready, In Progress, On Hold, Resolved by default): To Do
  is the untriaged queue, not work the team has taken on.
- **Cumulative flow** counts every column at the end of each day; tickets
  closed before the period and untouched through it are passed in as a
  number (`closed_elsewhere`) rather than as tickets, so the query behind
  the report stays small.
- **Days of a period after `now`** have not happened: WIP and flow stop at
  `now`, and today's figure is taken at `now`.
- **Ageing** is measured at the earlier of `now` and the period's end, for
  every ticket not in the final column: days in its current column and days
  since it first entered In Progress.
- **Time in each column** sums every visit of a ticket closed in the period,
  up to its close; its statistics run over the tickets that visited the
  column (a ticket that skipped Ready does not pull Ready's median to zero).
- **By assignee** uses the ticket's assignee now, not at the time of the move.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from statistics import median
from typing import Callable, Iterable, Mapping, Sequence

import msgspec

from app.reports.cycles import WORK_TYPES, Period, ReportSettings
from app.board.stale import is_stale
from app.board.workflow import Workflow

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
UNASSIGNED = "(unassigned)"
"""The by-assignee group of tickets with no assignee; parentheses never occur in a handle."""


class Move(msgspec.Struct, frozen=True):
    """One state change, in naive UTC like the database."""

    at: dt.datetime
    to_state: str
    from_state: str | None = None


class TicketFacts(msgspec.Struct, frozen=True):
    """What the metrics need of one ticket; `data.reporting` rows have the same attributes."""

    key: str
    created: dt.datetime
    moves: tuple[Move, ...] = ()
    created_state: str | None = None
    """The column the ticket was created in; None means the workflow's first."""
    kind: str = "bug"
    work_type: str | None = None
    assignee: str | None = None


class Stat(msgspec.Struct, frozen=True):
    """Summary of durations, in hours; None when there is nothing to summarise."""

    count: int
    median_hours: float | None
    p85_hours: float | None
    mean_hours: float | None

    def as_json(self, with_mean: bool = False) -> dict:
        result = {"median_hours": _round(self.median_hours), "p85_hours": _round(self.p85_hours),
                  "count": self.count}
        if with_mean:
            result["mean_hours"] = _round(self.mean_hours)
        return result


class ClosedTicket(msgspec.Struct, frozen=True):
    """One ticket counted in throughput: the row behind the cycle-time chart and `--csv`."""

    key: str
    work_type: str
    assignee: str | None
    created: dt.datetime
    started: dt.datetime | None
    closed: dt.datetime
    lead_hours: float
    cycle_hours: float | None


class OpenTicket(msgspec.Struct, frozen=True):
    """Ageing of one ticket not yet closed."""

    key: str
    state: str
    work_type: str
    assignee: str | None
    entered: dt.datetime
    started: dt.datetime | None
    days_in_column: float
    days_since_started: float | None
    stale: bool


class Split(msgspec.Struct, frozen=True):
    """The figures for one work type or one assignee."""

    throughput: int
    lead_time: Stat
    cycle_time: Stat
    wip: int
    open: int

    def as_json(self) -> dict:
        return {"throughput": self.throughput, "lead_time": self.lead_time.as_json(),
                "cycle_time": self.cycle_time.as_json(), "wip": self.wip, "open": self.open}


class Report(msgspec.Struct, frozen=True):
    """Every figure for one period; `as_json` is the contract of `triageboard report --json`."""

    period: Period
    as_of: dt.datetime
    columns: tuple[str, ...]
    wip_columns: tuple[str, ...]
    throughput: int
    lead_time: Stat
    cycle_time: Stat
    wip_by_day: tuple[tuple[dt.date, int], ...]
    cfd: tuple[tuple[dt.date, Mapping[str, int]], ...]
    time_in_column: Mapping[str, Stat]
    by_work_type: Mapping[str, Split]
    by_assignee: Mapping[str, Split]
    closed: tuple[ClosedTicket, ...]
    ageing: tuple[OpenTicket, ...]
    stale: tuple[str, ...]

    def as_json(self) -> dict:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "timezone": self.period.timezone,
            "as_of": self.as_of.isoformat() + "Z",
            "throughput": self.throughput,
            "lead_time": self.lead_time.as_json(),
            "cycle_time": self.cycle_time.as_json(),
            "wip_by_day": {day.isoformat(): count for day, count in self.wip_by_day},
            "cfd": {day.isoformat(): dict(counts) for day, counts in self.cfd},
            "time_in_column": {key: stat.as_json(with_mean=True) for key, stat in self.time_in_column.items()},
            "by_work_type": {key: split.as_json() for key, split in self.by_work_type.items()},
            "by_assignee": {key: split.as_json() for key, split in self.by_assignee.items()},
            "stale": list(self.stale),
            "ageing": [{"key": t.key, "state": t.state, "days_in_column": round(t.days_in_column, 2),
                        "days_since_started": _round(t.days_since_started), "stale": t.stale}
                       for t in self.ageing],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile: the ceil(p/100 x n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(hours: Iterable[float]) -> Stat:
    values = list(hours)
    if not values:
        return Stat(0, None, None, None)
    # math.fsum rather than statistics.mean, which works in exact fractions: slow for thousands of tickets.
    return Stat(len(values), median(values), nearest_rank(values, 85), math.fsum(values) / len(values))


class _Timeline:
    """A ticket's columns as consecutive segments: `states[i]` from `starts[i]` to `starts[i+1]`."""

    def __init__(self, ticket: TicketFacts, initial: str):
        self.starts: list[dt.datetime] = [ticket.created]
        self.states: list[str] = [ticket.created_state or initial]
        # A move stamped before the creation (clock skew on import) is read as made at creation.
        for move in sorted(ticket.moves, key=lambda m: m.at):
            if move.to_state == self.states[-1]:
                continue
            self.starts.append(max(move.at, ticket.created))
            self.states.append(move.to_state)

    def index_before(self, instant: dt.datetime) -> int:
        """The segment holding just before `instant`; -1 before creation."""
        return bisect_left(self.starts, instant) - 1

    def first_entry(self, state: str, before: int) -> dt.datetime | None:
        for i in range(before + 1):
            if self.states[i] == state:
                return self.starts[i]
        return None


def compute_report(tickets: Iterable[TicketFacts], period: Period, workflow: Workflow,
                   settings: ReportSettings, *, now: dt.datetime | None = None, closed_elsewhere: int = 0,
                   stale_from: Callable[[dt.datetime], dt.datetime] | None = None) -> Report:
    """All figures for `period`.

    `tickets` must hold every ticket that was open at some time in the period
    (what `data.reporting.fetch_period` returns); `closed_elsewhere` is the
    number of other tickets, closed throughout it. `now` (naive UTC) cuts the
    period where it has not happened yet. `stale_from` maps "entered its
    column at" to "stale from"; by default `settings.stale_rule()`.
    """
    start, end = period.start_utc, period.end_utc
    as_of = min(end, now) if now is not None else end
    final, active = workflow.final, workflow.active
    columns = workflow.keys
    wip_columns = columns[1:-1]
    stale_from = stale_from or settings.stale_rule()

    samples = [(day, min(period.midnight(day + DAY), as_of)) for day in period.days()
               if period.midnight(day) < as_of]
    cfd_counts = [dict.fromkeys(columns, 0) for _ in samples]
    for counts in cfd_counts:
        counts[final] += closed_elsewhere

    closed: list[ClosedTicket] = []
    ageing: list[OpenTicket] = []
    visits: dict[str, list[float]] = {key: [] for key in columns[:-1]}

    for ticket in tickets:
        line = _Timeline(ticket, workflow.initial)
        work_type = settings.work_type(ticket.kind, ticket.work_type)

        for counts, (_, instant) in zip(cfd_counts, samples):
            i = line.index_before(instant)
            if i >= 0 and line.states[i] in counts:
                counts[line.states[i]] += 1

        i = line.index_before(end)
        if i >= 0 and line.states[i] == final and line.starts[i] >= start:
            close = line.starts[i]
            started = line.first_entry(active, i)
            closed.append(ClosedTicket(
                key=ticket.key, work_type=work_type, assignee=ticket.assignee, created=ticket.created,
                started=started, closed=close, lead_hours=(close - ticket.created) / HOUR,
                cycle_hours=None if started is None else (close - started) / HOUR))
            spent: dict[str, dt.timedelta] = {}
            for j in range(i):
                if line.states[j] != final:
                    spent[line.states[j]] = spent.get(line.states[j], dt.timedelta()) + line.starts[j + 1] - line.starts[j]
            for state, length in spent.items():
                visits.setdefault(state, []).append(length / HOUR)

        i = line.index_before(as_of)
        if i >= 0 and line.states[i] != final:
            entered = line.starts[i]
            started = line.first_entry(active, i)
            ageing.append(OpenTicket(
                key=ticket.key, state=line.states[i], work_type=work_type, assignee=ticket.assignee,
                entered=entered, started=started, days_in_column=(as_of - entered) / DAY,
                days_since_started=None if started is None else (as_of - started) / DAY,
                stale=is_stale(entered, as_of, stale_from)))

    closed.sort(key=lambda t: (t.closed, t.key))
    ageing.sort(key=lambda t: (t.entered, t.key))
    cfd = tuple((day, counts) for (day, _), counts in zip(samples, cfd_counts))
    wip_by_day = tuple((day, sum(counts[c] for c in wip_columns)) for day, counts in cfd)

    return Report(
        period=period, as_of=as_of, columns=columns, wip_columns=wip_columns,
        throughput=len(closed),
        lead_time=summarize(t.lead_hours for t in closed),
        cycle_time=summarize(t.cycle_hours for t in closed if t.cycle_hours is not None),
        wip_by_day=wip_by_day, cfd=cfd,
        time_in_column={key: summarize(hours) for key, hours in visits.items()},
        by_work_type=_split(closed, ageing, wip_columns, lambda t: t.work_type, WORK_TYPES),
        by_assignee=_split(closed, ageing, wip_columns, lambda t: t.assignee or UNASSIGNED, ()),
        closed=tuple(closed), ageing=tuple(ageing),
        stale=tuple(t.key for t in ageing if t.stale),
    )


def _split(closed: list[ClosedTicket], ageing: list[OpenTicket], wip_columns: tuple[str, ...],
           group: Callable[[ClosedTicket | OpenTicket], str], always: tuple[str, ...]) -> dict[str, Split]:
    """Figures per group; the `always` groups appear even when empty, others sorted by name."""
    names = set(always) | {group(t) for t in closed} | {group(t) for t in ageing}
    ordered = [n for n in always] + sorted(n for n in names if n not in always and n != UNASSIGNED)
    if UNASSIGNED in names:
        ordered.append(UNASSIGNED)
    result = {}
    for name in ordered:
        done = [t for t in closed if group(t) == name]
        open_ = [t for t in ageing if group(t) == name]
        result[name] = Split(
            throughput=len(done),
            lead_time=summarize(t.lead_hours for t in done),
            cycle_time=summarize(t.cycle_hours for t in done if t.cycle_hours is not None),
            wip=sum(1 for t in open_ if t.state in wip_columns),
            open=len(open_))
    return result
