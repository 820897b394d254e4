"""Widgets render and post messages; they never import `data/` or call the service.

The names below load with their module on first use (PEP 562), not with the
package: the board imports the widgets its first frame shows, and the triage
panel and the badge when they are first mounted.

What it saves: the triage panel's and the outbox badge's imports, 1.1 and
0.5 ms of the first frame (`python -X importtime`), and whatever a later widget
imports. What would break it: importing names eagerly here (`from widgets.card
import Card` at the top of this file loads every widget with any one of them).
A new widget needs no entry: import it by module (`from widgets.key_bar import KeyBar`).
"""

from __future__ import annotations

import importlib

_MODULES = {"Card": "card", "CardSource": "card", "CardStyles": "card_styles", "Column": "column",
            "KeyBar": "key_bar", "OutboxBadge": "outbox_badge", "RosterLine": "roster_panel",
            "RosterPanel": "roster_panel", "StatusLine": "status_line", "TitleBar": "title_bar",
            "TriagePanel": "triage_panel", "TriageView": "triage_panel"}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(f"widgets.{_MODULES[name]}"), name)
