"""Triage rules: the questions, the priority they give, and what still blocks work.

Seed 001 (edX) asks five things of every incoming ticket: impact, urgency,
actionable, reproducible and communication. 2i2c (seed 002) says how to judge
impact (many users or a subset? always or intermittent? totally down?) and that
events raise urgency; Sourcegraph (seed 004) names the intake fields a request
needs before anyone can act on it and reviews a P1 immediately.

Everything here is a pure function over plain values: no database, no
Textual. The service (`app.service.triage.Triage.triage`) applies these rules and
stores the result; the triage panel renders `panel_rows`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import msgspec

from app.config.durations import parse_duration
from app.config.yamlnodes import LineDict, LineList, Section

IMPACTS = ("critical", "high", "medium", "low")
URGENCIES = ("immediate", "soon", "normal", "low")
REPRODUCIBLE = ("yes", "no", "untested")
ACTIONABLE = ("yes", "no")
USERS_AFFECTED = ("many", "subset")
FREQUENCIES = ("always", "intermittent")

DEFAULT_MATRIX: Mapping[str, Mapping[str, int]] = {
    "critical": {"immediate": 1, "soon": 1, "normal": 2, "low": 2},
    "high":     {"immediate": 1, "soon": 2, "normal": 2, "low": 3},
    "medium":   {"immediate": 2, "soon": 3, "normal": 3, "low": 4},
    "low":      {"immediate": 3, "soon": 4, "normal": 4, "low": 4},
}
"""Impact x urgency -> 1..4 (P1..P4), the issue's default; `triage.matrix` replaces it."""


class TriageConfig(msgspec.Struct, frozen=True):
    """The `triage:` section of config.yaml."""

    matrix: Mapping[str, Mapping[str, int]] = msgspec.field(default_factory=lambda: DEFAULT_MATRIX)
    """Priority (1..4) for every impact x urgency cell."""
    event_window: int = 3
    """Days: an event or deadline this close (before or after today) makes urgency immediate."""
    soon_window: int = 14
    """Days: an event or deadline this close makes urgency at least soon."""


# -- configuration -----------------------------------------------------------

def parse_triage_config(section: Section | None) -> TriageConfig:
    """Validate `triage:`: every impact x urgency cell must be P1..P4.

    A row is either a list in urgency order (`[P1, P1, P2, P2]`) or a mapping
    (`{immediate: P1, soon: P1, normal: P2, low: P2}`).
    """
    if section is None:
        return TriageConfig()
    section.only("matrix", "event_window", "soon_window")
    matrix: dict[str, dict[str, int]] = {k: dict(v) for k, v in DEFAULT_MATRIX.items()}
    grid = section.section("matrix")
    if grid is not None:
        grid.only(*IMPACTS)
        for impact in IMPACTS:
            row = grid.require(impact, (LineList, LineDict))
            if isinstance(row, LineList):
                if len(row) != len(URGENCIES):
                    raise grid.fail(impact, f"expected {len(URGENCIES)} priorities, one per urgency "
                                            f"({', '.join(URGENCIES)}), got {len(row)}")
                cells = dict(zip(URGENCIES, row))
            else:
                sub = grid.section(impact)
                sub.only(*URGENCIES)
                for urgency in URGENCIES:
                    sub.require(urgency)
                cells = {u: row[u] for u in URGENCIES}
            for urgency, value in cells.items():
                try:
                    matrix[impact][urgency] = _priority(value)
                except ValueError as exc:
                    raise grid.fail(impact, f"{urgency}: {exc}") from None

    def days(value: Any) -> int:
        duration = parse_duration(value, allow_working=False, units="dw")
        return duration.amount * (7 if duration.unit == "weeks" else 1)

    event_window = section.get("event_window", (str, int), 3, convert=days)
    soon_window = section.get("soon_window", (str, int), 14, convert=days)
    if soon_window < event_window:
        raise section.fail("soon_window", f"must be at least event_window ({event_window}d)")
    return TriageConfig(matrix=matrix, event_window=event_window, soon_window=soon_window)


def _priority(value: Any) -> int:
    text = str(value).strip().upper().removeprefix("P")
    if isinstance(value, bool) or text not in {"1", "2", "3", "4"}:
        raise ValueError(f"expected P1, P2, P3 or P4, got {value!r}")
    return int(text)


# -- impact, urgency, priority -------------------------------------------------

def suggested_impact(*, users_affected: str | None, frequency: str | None,
                     service_down: bool | None) -> str | None:
    """Impact from 2i2c's three questions, or None until they say enough.

    Totally down is critical whatever else is known. Otherwise both "who"
    and "how often" are needed: many users always -> high; many users
    intermittently or a subset always -> medium; a subset intermittently -> low.
    """
    if service_down:
        return "critical"
    if users_affected is None or frequency is None:
        return None
    if users_affected == "many":
        return "high" if frequency == "always" else "medium"
    return "medium" if frequency == "always" else "low"


def urgency_from_date(deadline: dt.date | str | None, today: dt.date, config: TriageConfig) -> str | None:
    """The urgency an event or deadline implies on `today`, or None when it implies nothing.

    Events raise urgency (2i2c): within `event_window` days of today, either
    side (an event running since yesterday still needs attention), urgency is
    immediate; later but within `soon_window` days it is soon. A date further
    away, or one that passed more than `event_window` days ago, raises nothing.
    """
    day = parse_date(deadline) if isinstance(deadline, str) else deadline
    if day is None:
        return None
    days = (day - today).days
    if -config.event_window <= days <= config.event_window:
        return "immediate"
    if 0 <= days <= config.soon_window:
        return "soon"
    return None


def effective_urgency(urgency: str | None, deadline: dt.date | str | None, today: dt.date,
                      config: TriageConfig) -> str | None:
    """The answered urgency, raised (never lowered) by a near event or deadline."""
    implied = urgency_from_date(deadline, today, config)
    candidates = [u for u in (urgency, implied) if u in URGENCIES]
    return min(candidates, key=URGENCIES.index) if candidates else None


def suggested_priority(impact: str | None, urgency: str | None,
                       matrix: Mapping[str, Mapping[str, int]] = DEFAULT_MATRIX) -> int | None:
    """The matrix cell for impact x urgency (1..4), None until both are answered."""
    if impact not in IMPACTS or urgency not in URGENCIES:
        return None
    return matrix[impact][urgency]


def parse_date(text: str | None) -> dt.date | None:
    """An ISO date (`2026-11-05`, or the date part of a date-time); ValueError otherwise."""
    if text in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise ValueError(f"expected a date like 2026-11-05, got {text!r}") from None


# -- actionable: Sourcegraph's intake ------------------------------------------

INTAKE_FIELDS = (
    ("description", "short description"),
    ("background", "background/context"),
    ("impact_statement", "impact"),
    ("extra_info", "extra information"),
)
"""Ticket field -> the name Sourcegraph's request guidelines give it."""


def intake_missing(*, description: str | None, background: str | None, impact_statement: str | None,
                   extra_info: str | None) -> tuple[str, ...]:
    """The intake fields still empty. None empty suggests the ticket is actionable."""
    values = {"description": description, "background": background,
              "impact_statement": impact_statement, "extra_info": extra_info}
    return tuple(label for name, label in INTAKE_FIELDS if not (values[name] or "").strip())


def suggested_actionable(**intake: str | None) -> str:
    """"yes" when the intake is complete, else "no"; the engineer's answer decides."""
    return "no" if intake_missing(**intake) else "yes"


# -- the gate ---------------------------------------------------------------

def missing(*, actionable: str | None, priority: int | None, acknowledged: bool,
            impact: str | None = None, urgency: str | None = None) -> tuple[str, ...]:
    """What still blocks To Do -> Ready, in the order the panel asks, in words for the user.

    Three things must be done: the ticket judged actionable, a priority set
    (from impact x urgency, or an override), and the requester told we have
    it (edX's "communication"). Pass impact and urgency to be told which of
    them the priority is waiting for.
    """
    gaps = []
    if actionable is None:
        gaps.append("actionable (not answered)")
    elif actionable != "yes":
        gaps.append("actionable (answered no: not enough to start)")
    if priority is None:
        waiting = [name for name, value in (("impact", impact), ("urgency", urgency)) if value is None]
        gaps.append(f"priority (answer {' and '.join(waiting)}, or set one)" if waiting else "priority")
    if not acknowledged:
        gaps.append("communication (requester not acknowledged)")
    return tuple(gaps)


# -- the triage panel ----------------------------------------------------------

PANEL_KEYS: Mapping[str, str] = {
    "users_affected": "w",
    "frequency": "f",
    "service_down": "d",
    "impact": "i",
    "deadline": "e",
    "urgency": "u",
    "actionable": "x",
    "reproducible": "r",
    "acknowledged": "c",
    "next_steps_sent": "s",
    "eta": "T",
    "priority": "p",
    "clear_override": "P",
}
"""Field -> the key that edits it while the panel has focus (`t`); the board may remap."""

MISSING = "missing"


class PanelRow(msgspec.Struct, frozen=True):
    """One line of the triage panel."""

    field: str
    """The `Service.triage` keyword the row edits ("" for a read-only row)."""
    question: str
    answer: str
    """The answer in words, or "missing" when a required answer is absent."""
    key: str | None
    """The key that edits it, None for a read-only row."""
    choices: tuple[Any, ...] = ()
    """Values the key cycles through (None = unanswered); empty means free text or a date."""
    missing: bool = False
    """True when the row blocks the move to Ready or the priority."""


def panel_rows(ticket: Any, config: TriageConfig, today: dt.date) -> list[PanelRow]:
    """The triage panel for `ticket` (any object with the Ticket's attributes).

    Rows follow edX's order: impact (with 2i2c's questions), urgency,
    actionable (with Sourcegraph's intake), reproducible, communication,
    then the priority the answers give.
    """
    get = lambda name: getattr(ticket, name, None)  # noqa: E731
    rows: list[PanelRow] = []

    def row(name: str, question: str, answer: str, *, choices: tuple[Any, ...] = (), missing: bool = False,
            editable: bool = True) -> None:
        rows.append(PanelRow(name if editable else "", question, answer,
                             PANEL_KEYS.get(name) if editable else None, choices, missing))

    yes_no = {True: "yes", False: "no", None: "not asked"}
    row("users_affected", "Many users, or a subset?", get("users_affected") or "not asked",
        choices=(*USERS_AFFECTED, None))
    row("frequency", "Always, or intermittent?", get("frequency") or "not asked", choices=(*FREQUENCIES, None))
    row("service_down", "Is the service totally down?", yes_no[get("service_down")], choices=(True, False, None))
    hint = suggested_impact(users_affected=get("users_affected"), frequency=get("frequency"),
                            service_down=get("service_down"))
    impact = get("impact")
    if impact:
        answer = impact + (f" (questions suggest {hint})" if hint and hint != impact else "")
    else:
        answer = f"{MISSING} (questions suggest {hint})" if hint else MISSING
    row("impact", "Impact", answer, choices=(*IMPACTS, None), missing=not impact)

    row("deadline", "Event or deadline date", get("deadline") or "none")
    urgency = get("urgency")
    effective = effective_urgency(urgency, get("deadline"), today, config)
    if effective and effective != urgency:
        answer = f"{urgency or MISSING} -> {effective} (event {get('deadline')})"
    else:
        answer = urgency or MISSING
    row("urgency", "Urgency", answer, choices=(*URGENCIES, None), missing=effective is None)

    intake = intake_missing(description=get("description"), background=get("background"),
                            impact_statement=get("impact_statement"), extra_info=get("extra_info"))
    row("intake", "Intake (description, background, impact, extra info)",
        "complete" if not intake else f"lacks {', '.join(intake)}", editable=False)
    actionable = get("actionable")
    row("actionable", "Enough to start?", actionable or MISSING, choices=(*ACTIONABLE, None),
        missing=actionable != "yes")
    row("reproducible", "Reproducible?", get("reproducible") or "not asked", choices=(*REPRODUCIBLE, None))

    row("acknowledged", "Requester acknowledged?", "yes" if get("acknowledged") else MISSING,
        choices=(True, False), missing=not get("acknowledged"))
    row("next_steps_sent", "Next steps sent?", "yes" if get("next_steps_sent") else "no", choices=(True, False))
    row("eta", "ETA given", get("eta") or "none")

    priority = get("priority")
    matrix_says = suggested_priority(impact, effective, config.matrix)
    if priority is None:
        answer = MISSING
    elif get("priority_overridden"):
        answer = f"P{priority} (override" + (f"; matrix says P{matrix_says})" if matrix_says else ")")
    else:
        answer = f"P{priority} (matrix)"
        if matrix_says is not None and matrix_says != priority:
            answer += f"; now P{matrix_says}"
    row("priority", "Priority", answer, choices=(1, 2, 3, 4), missing=priority is None)
    return rows
