"""Mattermost's priority of work, as one sortable number per ticket.

SET works on: incidents on the team's own production service, then customer
escalations, then bugs (hotfix, release, customer reported, other), then
questions; features last. Within a class, P1 before P4, untriaged after P4;
then the manual rank. The number is stored on the ticket (`sort_key`) so a
column of 100,000 cards is ordered by an index, not by sorting in Python.
"""

from __future__ import annotations

BUG_CLASSES = ("hotfix", "release", "customer", "other")

_CLASS_ORDER = {
    ("incident", None): 0,
    ("escalation", None): 1,
    ("bug", "hotfix"): 2,
    ("bug", "release"): 3,
    ("bug", "customer"): 4,
    ("bug", "other"): 5,
    ("question", None): 6,
    ("feature", None): 7,
}

UNSET_PRIORITY = 5


def work_class(kind: str, bug_class: str | None = None) -> int:
    """The position of a ticket's kind in the priority of work (0 comes first)."""
    if kind == "bug":
        return _CLASS_ORDER[("bug", bug_class if bug_class in BUG_CLASSES else "other")]
    return _CLASS_ORDER.get((kind, None), 8)


def sort_key(kind: str, bug_class: str | None, priority: int | None) -> int:
    """Work class first, then priority (P1 = 1; unset sorts after P4)."""
    return work_class(kind, bug_class) * 10 + (priority or UNSET_PRIORITY)


def priority_label(priority: int | None) -> str:
    return f"P{priority}" if priority else "--"


def parse_priority(text: str) -> int:
    """`P1`..`P4` (or 1..4) to 1..4; ValueError names what is accepted."""
    value = str(text).strip().upper().removeprefix("P")
    if value in {"1", "2", "3", "4"}:
        return int(value)
    raise ValueError(f"priority must be P1, P2, P3 or P4, got {text!r}")
