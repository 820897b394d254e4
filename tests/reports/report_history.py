"""A small board history at known instants, shared by the report tests.

Cycle 0 of the repo's config runs Mon 2 Nov to Sun 15 Nov 2026 in
Europe/London, which is on GMT then, so local midnight is 00:00 UTC and the
hand computations below need no offsets. The report is read after the
period, so its figures are taken at 16 Nov 00:00.
"""

from __future__ import annotations

import json
from pathlib import Path

# key: (kind, assignee, work_type, created, [(at, from, to), ...])  all UTC
HISTORY = {
    # Closed in the period: lead 2 Nov 09:00 -> 5 Nov 09:00 = 72 h; cycle 3 Nov 09:00 -> 5 Nov 09:00 = 48 h.
    "SET-1": ("bug", "alice", None, "2026-11-02T09:00", [
        ("2026-11-02T10:00", "todo", "ready"), ("2026-11-03T09:00", "ready", "in_progress"),
        ("2026-11-04T09:00", "in_progress", "resolved"), ("2026-11-05T09:00", "resolved", "closed")]),
    # A feature (project work): lead 3 Nov 12:00 -> 10 Nov 12:00 = 168 h; cycle 4 Nov 12:00 -> 10 Nov 12:00 = 144 h.
    "SET-2": ("feature", "bob", None, "2026-11-03T12:00", [
        ("2026-11-03T13:00", "todo", "ready"), ("2026-11-04T12:00", "ready", "in_progress"),
        ("2026-11-09T12:00", "in_progress", "resolved"), ("2026-11-10T12:00", "resolved", "closed")]),
    # Solved by support from To Do: lead 2 h, no cycle time.
    "SET-3": ("question", "alice", None, "2026-11-06T08:00", [("2026-11-06T10:00", "todo", "closed")]),
    # In progress since 28 Oct 09:00, before the period: 18.625 days in its column at 16 Nov 00:00;
    # five working days (8 h a day, 09:00-17:00) run out on Tue 3 Nov: stale.
    "SET-4": ("bug", "carol", None, "2026-10-26T09:00", [
        ("2026-10-27T09:00", "todo", "ready"), ("2026-10-28T09:00", "ready", "in_progress")]),
    # In Ready since Thu 12 Nov 10:00 (3.583 days); stale only from Thu 19 Nov 10:00. Explicitly ad-hoc work.
    "SET-5": ("bug", None, "adhoc", "2026-11-12T09:00", [("2026-11-12T10:00", "todo", "ready")]),
    # Closed in October and untouched: only the Closed band of the flow diagram.
    "SET-6": ("bug", "erin", None, "2026-10-01T09:00", [("2026-10-02T09:00", "todo", "closed")]),
    # Closed on 6 Nov, reopened on Mon 9 Nov 10:00 and not closed again: not in throughput.
    # Five working days from Mon 9 Nov 10:00 end on Mon 16 Nov 10:00: not stale at 16 Nov 00:00.
    "SET-7": ("bug", "dan", None, "2026-11-02T09:00", [
        ("2026-11-02T12:00", "todo", "ready"), ("2026-11-03T10:00", "ready", "in_progress"),
        ("2026-11-05T10:00", "in_progress", "resolved"), ("2026-11-06T10:00", "resolved", "closed"),
        ("2026-11-09T10:00", "closed", "in_progress")]),
    # An incident: lead 9 Nov 08:00 -> 10 Nov 09:00 = 25 h; cycle 9 Nov 09:00 -> 10 Nov 09:00 = 24 h.
    "SET-8": ("incident", "bob", None, "2026-11-09T08:00", [
        ("2026-11-09T08:30", "todo", "ready"), ("2026-11-09T09:00", "ready", "in_progress"),
        ("2026-11-09T15:00", "in_progress", "resolved"), ("2026-11-10T09:00", "resolved", "closed")]),
}

TITLES = {key: f"Ticket {key[4:]}" for key in HISTORY}


def import_document() -> dict:
    """The history in `triageboard import` JSON: each ticket with its create and move rows."""
    tickets = []
    for key, (kind, assignee, work_type, created, moves) in HISTORY.items():
        history = [{"kind": "create", "at": created + "Z", "to_state": "todo", "by": "desk"}]
        history += [{"kind": "move", "at": at + "Z", "from_state": src, "to_state": dst, "by": "dev"}
                    for at, src, dst in moves]
        last_at, _, state = moves[-1]
        ticket = {"key": key, "title": TITLES[key], "kind": kind, "state": state, "created": created + "Z",
                  "state_entered": last_at + "Z", "history": history}
        if assignee:
            ticket["assignee"] = assignee
        if work_type:
            ticket["work_type"] = work_type
        tickets.append(ticket)
    return {"tickets": tickets}


def write_import(path: Path) -> Path:
    path.write_text(json.dumps(import_document(), indent=1), encoding="utf-8")
    return path
