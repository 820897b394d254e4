"""The reports screen: one cycle's flow at a glance, for the two-weekly retro.

Three charts (cumulative flow, cycle-time scatter with its median and 85th
percentile, ageing of open work) and the figures beside them. The figures
come from `app.reports.report.gather`, the call `triageboard report` makes, so the
screen and the command never disagree. The query runs in a thread worker and
posts the finished report back; `[` and `]` step through cycles, and a
second key press while one cycle loads simply replaces it (exclusive worker,
stale results dropped).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from app.config.settings import Config
from app.reports.cycles import Period
from app.reports.metrics import DAY, Stat
from app.reports.report import CycleReport, compliance_text, current_cycle_number, cycle_of, fairness_rows, gather
from widgets.key_bar import KeyBar
from widgets.safe_text import shown
from widgets.title_bar import TitleBar


def period_label(number: int, period: Period) -> str:
    last = period.end - dt.timedelta(days=1)
    return f"Cycle {number} · {period.start:%a %d %b} – {last:%a %d %b %Y}"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def _stat(stat: Stat) -> str:
    if not stat.count:
        return "no tickets"
    return f"median {_hours(stat.median_hours)} · 85th {_hours(stat.p85_hours)} · n={stat.count}"


def figures_text(result: CycleReport, config: Config) -> str:
    """The numbers beside the charts, as plain text (never markup: keys and handles are literal)."""
    report = result.report
    workflow = config.workflow
    lines = [f"as of {report.as_of.replace(tzinfo=dt.timezone.utc).astimezone(config.board.tz):%Y-%m-%d %H:%M}",
             "",
             f"Throughput  {report.throughput} closed",
             f"Lead time   {_stat(report.lead_time)}",
             f"Cycle time  {_stat(report.cycle_time)}"]
    met = compliance_text(result.sla)
    if met:
        lines += ["Targets met (of the tickets closed)", *(f"  {part}" for part in met.split(" · "))]
    elif result.sla is not None:
        lines.append("Targets met — (nothing closed)")
    if report.cfd:
        last_day, counts = report.cfd[-1]
        # A cycle still running is cut at "now"; a past one ends at its last midnight.
        label = "WIP now    " if report.as_of < report.period.end_utc else f"WIP at end ({last_day:%a %d %b})"
        lines.append(f"{label} {sum(counts[c] for c in report.wip_columns)}")
        lines += _joined_to_fit([f"{workflow.column(c).title} {counts[c]}" for c in report.wip_columns])
    lines += ["", f"{'Work type':<14}{'closed':>7}{'wip':>5}"]
    lines += [f"  {name:<12}{split.throughput:>7}{split.wip:>5}" for name, split in report.by_work_type.items()]
    lines += ["", f"{'Assignee':<14}{'closed':>7}{'wip':>5}"]
    lines += [f"  {name:<12}{split.throughput:>7}{split.wip:>5}" for name, split in report.by_assignee.items()]
    fair = fairness_rows(result)  # header, one row per person, then the spread
    if fair:
        lines += ["", f"{'Fairness':<12}{'on-call h':>10}{'pages':>6}{'asked':>6}{'assigned':>9}"]
        lines += [f"  {row[0]:<10}{row[1]:>10}{row[2]:>6}{row[3]:>6}{row[4]:>9}" for row in fair[1:]]
    lines += ["", f"Stale ({len(report.stale)})"]
    stale = [t for t in report.ageing if t.stale]
    lines += [f"  {t.key:<10} {_title(config, t.state):<12} {t.days_in_column:.1f} d" for t in stale] or ["  none"]
    return "\n".join(lines)


FIGURES_WIDTH = 46
"""Text width of the figures pane (reports.tcss: 52 less its border, padding and a scrollbar)."""


def _joined_to_fit(parts: list[str], indent: str = "  ") -> list[str]:
    """`parts` joined by " · ", broken only between parts, so a label never wraps away from its count."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 3 + len(part) <= FIGURES_WIDTH:
            lines[-1] += " · " + part
        else:
            lines.append(indent + part)
    return lines


def _title(config: Config, state: str) -> str:
    try:
        return config.workflow.column(state).title
    except KeyError:
        return state


class ReportsScreen(Screen[None]):
    """Charts and figures for one cycle; `[`/`]` to step through cycles, escape to go back."""

    CSS_PATH = "reports.tcss"

    BINDINGS = [
        Binding("left_square_bracket,left", "cycle(-1)", "Previous cycle", key_display="[",
                id="reports.previous"),
        Binding("right_square_bracket,right", "cycle(1)", "Next cycle", key_display="]", id="reports.next"),
        Binding("escape,q", "back", "Back to the board", key_display="esc", id="reports.back"),
    ]

    class Loaded(Message):
        """A worker finished one cycle's report."""

        def __init__(self, number: int, result: CycleReport) -> None:
            super().__init__()
            self.number = number
            self.result = result

    def __init__(self, config: Config, clock: Callable[[], dt.datetime], number: int | None = None) -> None:
        super().__init__()
        self.config = config
        self.clock = clock
        self.number = current_cycle_number(config, clock()) if number is None else number
        self.result: CycleReport | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="period")
        with Horizontal(id="reports-body"):
            with Vertical(id="charts"):
                yield PlotextPlot(id="cfd")
                with Horizontal(id="lower-charts"):
                    yield PlotextPlot(id="cycle-time")
                    yield PlotextPlot(id="ageing")
            with VerticalScroll(id="figures-pane"):
                yield Static(id="figures")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "triageboard · reports"
        self.show_cycle(self.number)

    @property
    def period(self) -> Period:
        return cycle_of(self.config, self.number)

    def show_cycle(self, number: int) -> None:
        self.number = number
        label = period_label(number, self.period)
        if number == current_cycle_number(self.config, self.clock()):
            label += " (current)"
        self.query_one("#period", Static).update(Content(shown(label)))
        self.sub_title = label
        self.query_one("#figures", Static).update(Content("loading…"))
        self._load(number)

    def action_cycle(self, step: int) -> None:
        self.show_cycle(self.number + step)

    def action_back(self) -> None:
        self.dismiss()

    @work(thread=True, exclusive=True, group="reports", exit_on_error=False)
    def _load(self, number: int) -> None:
        result = gather(self.config, cycle_of(self.config, number), self.clock())
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(number, result))

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        if message.number != self.number:
            return  # the user has moved on to another cycle
        self.result = message.result
        self.query_one("#figures", Static).update(Content(shown(figures_text(message.result, self.config), multiline=True)))
        self.draw_cfd(message.result)
        self.draw_cycle_time(message.result)
        self.draw_ageing(message.result)

    # -- charts ----------------------------------------------------------

    def draw_cfd(self, result: CycleReport) -> None:
        """Stacked bands, the final column at the bottom, each line the top of its band.

        Tickets closed before the cycle would dwarf every other band on a board
        with years of history, so the Closed band starts from zero: it counts
        what closed during the cycle.
        """
        report = result.report
        widget = self.query_one("#cfd", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        days = [day for day, _ in report.cfd]
        plt.title("Cumulative flow (tickets at the end of each day)")
        if not days:
            widget.refresh()
            return
        x = list(range(1, len(days) + 1))
        baseline = result.history.closed_elsewhere
        columns = list(report.columns)
        for index, column in enumerate(columns):
            below = columns[index:]
            heights = [sum(counts[c] for c in below) - baseline for _, counts in report.cfd]
            plt.plot(x, heights, label=_title(self.config, column), fillx=True)
        plt.xticks(x, [f"{day:%d}" for day in days])
        widget.refresh()

    def draw_cycle_time(self, result: CycleReport) -> None:
        report = result.report
        widget = self.query_one("#cycle-time", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        points = [((t.closed - report.period.start_utc) / DAY, t.cycle_hours / 24) for t in report.closed
                  if t.cycle_hours is not None]
        stat = report.cycle_time
        if not points:
            plt.title("Cycle time: no ticket closed yet")
            widget.refresh()
            return
        plt.title(f"Cycle time (days) · median {stat.median_hours / 24:.1f} · 85th {stat.p85_hours / 24:.1f}")
        plt.scatter([p[0] for p in points], [p[1] for p in points], marker="dot")
        plt.hline(stat.median_hours / 24, "green")
        plt.hline(stat.p85_hours / 24, "orange")
        plt.xlim(0, (report.period.end_utc - report.period.start_utc) / DAY)
        plt.xlabel("day of the cycle")
        widget.refresh()

    def draw_ageing(self, result: CycleReport) -> None:
        report = result.report
        widget = self.query_one("#ageing", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        columns = [c for c in report.columns if c != self.config.workflow.final]
        position = {c: i + 1 for i, c in enumerate(columns)}
        plt.title(f"Ageing of open work (days in column) · {len(report.ageing)} open")
        fresh = [(position[t.state], t.days_in_column) for t in report.ageing if not t.stale and t.state in position]
        stale = [(position[t.state], t.days_in_column) for t in report.ageing if t.stale and t.state in position]
        if fresh:
            plt.scatter([p[0] for p in fresh], [p[1] for p in fresh], marker="dot", label="open")
        if stale:
            plt.scatter([p[0] for p in stale], [p[1] for p in stale], marker="x", color="red", label="stale")
        # plotext drops a tick label that would touch its neighbour, so long titles are cut to fit.
        room = max(3, widget.size.width // max(1, len(columns)) - 3)
        labels = [_title(self.config, c) for c in columns]
        plt.xticks(list(position.values()), [t if len(t) <= room else t[:room - 1] + "…" for t in labels])
        plt.xlim(0.5, len(columns) + 0.5)
        widget.refresh()


__all__ = ["ReportsScreen", "figures_text", "period_label"]
