"""The workflow rules: which moves are allowed and what the requester sees.

Pure functions over plain values (LemonEdge's integrated Support/DevOps
flow, seed 000). The board column is the DevOps state; the support status the
requester sees is always derived from the state and the hold reason, never
stored, so the two faces of a ticket cannot drift apart.
"""

from __future__ import annotations

from typing import Mapping

import msgspec

HOLD_REASONS = ("requester", "external")
"""Why a ticket is on hold: waiting on the requester (Pending) or on a third party."""

SOLVED = "Solved"
"""The requester's confirmation after the fix was released (a flag, not a column)."""

WIP_POLICIES = ("refuse", "warn")


class Column(msgspec.Struct, frozen=True):
    """One board column: a DevOps state and the support status it shows."""

    key: str
    title: str
    support_status: str | Mapping[str, str]
    """A status, or one per hold reason for a column that means "on hold"."""
    wip_limit: int | None = None
    collapsed: bool = False
    """Shown as a narrow strip with its count until `z` widens it (a user's own choice, kept in the state file,
    wins)."""

    @property
    def is_hold(self) -> bool:
        return not isinstance(self.support_status, str)


class Workflow(msgspec.Struct, frozen=True):
    """The configured columns and the transition graph between them."""

    columns: tuple[Column, ...]
    transitions: Mapping[str, tuple[str, ...]]
    wip_policy: str = "refuse"
    reasons: Mapping[tuple[str, str], str] = msgspec.field(default_factory=dict)
    """Default reasons for the named loops, e.g. (resolved, in_progress) -> "not fixed"."""
    triage_gate: tuple[str, ...] = ()
    """Columns a ticket may only enter from the first column once triage is complete."""

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def initial(self) -> str:
        """New tickets start in the first column."""
        return self.columns[0].key

    @property
    def final(self) -> str:
        """The last column is where work ends (Closed / Released)."""
        return self.columns[-1].key

    @property
    def active(self) -> str:
        """The column a requester's reply sends a Pending ticket back to."""
        for column in self.columns:
            if column.support_status == "In Progress":
                return column.key
        return self.columns[min(2, len(self.columns) - 1)].key

    def index(self, key: str) -> int:
        return self.keys.index(key)

    def allowed(self, state: str) -> tuple[str, ...]:
        return tuple(self.transitions.get(state, ()))

    def neighbour(self, state: str, step: int) -> str | None:
        """The column `step` places to the right (negative: left), if any."""
        position = self.index(state) + step
        if 0 <= position < len(self.columns):
            return self.columns[position].key
        return None


def support_status(workflow: Workflow, state: str, hold_reason: str | None = None, solved: bool = False) -> str:
    """What the requester sees for a ticket in `state`.

    On hold shows Pending when waiting on the requester and On Hold when
    waiting on a third party; a closed ticket the requester confirmed shows
    Solved.
    """
    column = workflow.column(state)
    if solved and state == workflow.final:
        return SOLVED
    status = column.support_status
    if isinstance(status, str):
        return status
    return status.get(hold_reason or "external") or next(iter(status.values()))


class MoveCheck(msgspec.Struct, frozen=True):
    """The verdict on a proposed move: errors refuse it, warnings let it pass."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def describe_allowed(workflow: Workflow, state: str) -> str:
    targets = workflow.allowed(state)
    if not targets:
        return f"no moves are allowed from {workflow.column(state).title}"
    titles = ", ".join(f"{workflow.column(t).title} ({t})" for t in targets)
    return f"allowed from {workflow.column(state).title}: {titles}"


def check_move(workflow: Workflow, state: str, target: str, *, hold_reason: str | None = None,
               count_in_target: int = 0, triage_missing: tuple[str, ...] = ()) -> MoveCheck:
    """Validate one move against the graph, hold reasons, WIP limits and the triage gate.

    `count_in_target` is how many tickets the target column holds now;
    `triage_missing` lists the unanswered triage items (empty when complete).
    """
    if target not in workflow.keys:
        return MoveCheck(errors=(f"unknown state '{target}' (states: {', '.join(workflow.keys)})",))
    if target == state:
        return MoveCheck(errors=(f"already in {workflow.column(state).title}",))
    if target not in workflow.allowed(state):
        return MoveCheck(errors=(
            f"cannot move from {workflow.column(state).title} to {workflow.column(target).title}; "
            f"{describe_allowed(workflow, state)}",))
    errors: list[str] = []
    warnings: list[str] = []
    column = workflow.column(target)
    if column.is_hold:
        if hold_reason not in HOLD_REASONS:
            errors.append(f"a move to {column.title} needs a hold reason: requester (Pending) or external (On Hold)")
    elif hold_reason is not None:
        errors.append(f"a hold reason only applies to a move into an on-hold column, not {column.title}")
    if state == workflow.initial and target in workflow.triage_gate and triage_missing:
        errors.append(f"triage is not complete: missing {', '.join(triage_missing)}")
    if column.wip_limit is not None and count_in_target + 1 > column.wip_limit:
        message = f"{column.title} is at its WIP limit ({count_in_target}/{column.wip_limit})"
        (errors if workflow.wip_policy == "refuse" else warnings).append(message)
    return MoveCheck(tuple(errors), tuple(warnings))


def default_reason(workflow: Workflow, state: str, target: str) -> str | None:
    """The reason a named loop carries when the user gives none ("not fixed", "reopened")."""
    return workflow.reasons.get((state, target))
