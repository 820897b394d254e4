"""How a ticket's response targets read on a card, in a list and in `ticket show`.

Pure (no Textual, no SQL): an `SlaStatus` in, words and a style class out,
so the board only renders what `card_sla` returns and the command line says
the same thing in the same words.
"""

from __future__ import annotations

from datetime import timedelta

from app.sla.targets import SlaStatus, TargetStatus

STYLES = ("ok", "warning", "breached", "paused")
"""The card's style classes, in `app/*.tcss` as `.sla-ok`, `.sla-warning`, … (the board's choice of colour)."""

FILTERS = {"breached": {"breached"}, "warning": {"warning"}, "at-risk": {"warning", "breached"}}
"""`ticket list --sla` choices and the card states each one keeps (at-risk: warning or breached)."""

TARGET_TITLES = {"first_response": "first response", "update_every": "update to the requester"}
TARGET_PHRASES = {"first_response": "a first response", "update_every": "an update"}
"""What a reminder says is owed to the requester."""


def human(amount: timedelta) -> str:
    """A short length for a card: "45m", "3h", "3h 30m", "12h"; minutes dropped from 10h up.

    Working targets are counted in working time, so "12h" on a 09:00-17:00
    calendar is a day and a half of the team's time, not half a day.
    """
    minutes = int(abs(amount).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes}m"
    if minutes == 0 or hours >= 10:
        return f"{hours}h"
    return f"{hours}h {minutes}m"


def target_text(target: TargetStatus) -> str:
    """"3h left", "overdue 2h", "paused (3h left)", "met", "met late"."""
    if target.state == "met":
        return "met late" if target.late else "met"
    if target.state == "paused":
        return f"paused ({human(target.left)} left)" if target.left > timedelta(0) else "paused (overdue)"
    if target.left > timedelta(0):
        return f"{human(target.left)} left"
    return f"overdue {human(target.left)}" if target.left < timedelta(0) else "due now"


def card_state(status: SlaStatus) -> str:
    """The state the card shows: that of its most urgent target (`SlaStatus.next`), so the worst of its targets'."""
    return status.next.state


def card_sla(status: SlaStatus, *, closed: bool = False) -> tuple[str, str]:
    """(label, style) for a card: "3h left"/"ok", "45m left"/"warning", "overdue 2h"/"breached", "paused"/"paused".

    The label is the time left on the card's most urgent target
    (`SlaStatus.next`: usually the first response until it is sent, then
    the next update; a breached or warning target first). A closed ticket owes
    nothing: pass `closed=True` and get ("", "ok"), so the final column shows
    no countdown. Label and style are plain text; the style is one of `STYLES`.
    """
    target = status.next
    if closed or target.state == "met":
        return "", "ok"
    if target.state == "paused":
        return "paused", "paused"
    if target.left > timedelta(0):
        label = f"{human(target.left)} left"
    elif target.state == "breached":
        label = f"overdue {human(target.left)}" if target.left < timedelta(0) else "overdue"
    else:
        label = "due now"
    return label, target.state


def sla_json(status: SlaStatus) -> dict:
    """The `sla` object of `ticket show --json`: per target due (ISO, board zone), state, working time left."""
    data: dict = {}
    for target in status.targets:
        entry = target.to_json()
        entry["working_time_left_text"] = target_text(target)
        entry["working"] = target.working
        data[target.name] = entry
    data["next"] = status.next.name
    return data


__all__ = ["FILTERS", "STYLES", "TARGET_PHRASES", "TARGET_TITLES", "card_sla", "card_state", "human", "sla_json", "target_text"]
