"""A user's board preferences kept between sessions: which columns are collapsed.

A small JSON file in the user's state directory (`$XDG_STATE_HOME/triageboard/state.json`, else
`~/.local/state/…`), or wherever `TRIAGEBOARD_STATE` points (tests do). Preferences, not data: they
are never in the database, a team shares a board but not its layout, and a file that cannot be read
or written is ignored rather than stopping the board.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def state_path() -> Path:
    """Where the preferences live: `TRIAGEBOARD_STATE`, else the XDG state directory."""
    override = os.environ.get("TRIAGEBOARD_STATE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "triageboard" / "state.json"


def load_collapsed(board: str) -> set[str] | None:
    """The columns collapsed on board `board` last time; None: never chosen (the config's default holds)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
        chosen = data["boards"][board]["collapsed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(key) for key in chosen} if isinstance(chosen, list) else None


def save_collapsed(board: str, collapsed: set[str]) -> None:
    """Keep the collapsed columns of board `board` (other boards' choices are left as they are)."""
    path = state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.setdefault("boards", {}).setdefault(board, {})["collapsed"] = sorted(collapsed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only home: the choice lasts this session


__all__ = ["load_collapsed", "save_collapsed", "state_path"]
