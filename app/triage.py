"""Triage rules: what a ticket still needs before work may start on it.

Seed 001 (edX) asks impact, urgency, actionable, reproducible and
communication for each incoming bug; the gate into Ready needs the answers
that decide whether work can start.
"""

from __future__ import annotations


def missing(*, actionable: str | None, priority: int | None, acknowledged: bool) -> tuple[str, ...]:
    """The triage items still open, in the order the panel asks them."""
    gaps = []
    if actionable != "yes":
        gaps.append("actionable")
    if priority is None:
        gaps.append("priority")
    if not acknowledged:
        gaps.append("communication (acknowledged)")
    return tuple(gaps)
