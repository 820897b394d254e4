"""A user's board preferences kept between sessions: which columns are collapsed, and the card density.

A small JSON file in the user's state directory (`$XDG_STATE_HOME/triageboard/state.json`, else
`~/.local/state/…`), or wherever `TRIAGEBOARD_STATE` points (tests do). Preferences, not data: they
are never in the database, a team shares a board but not its layout, and a file that cannot be read
or written is ignored rather than stopping the board.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DENSITIES = ("comfortable", "compact")
"""Card densities, in the order `D` cycles them: two lines a card, or one."""


def state_path() -> Path:
    """Where the preferences live: `TRIAGEBOARD_STATE`, else the XDG state directory."""
    override = os.environ.get("TRIAGEBOARD_STATE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "triageboard" / "state.json"


def _chosen(board: str, name: str):
    """Preference `name` of board `board` as last saved; None when never chosen or unreadable."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
        return data["boards"][board][name]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(board: str, name: str, value) -> None:
    """Keep one preference of board `board`, the others (and other boards') as they are."""
    path = state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    boards = data.get("boards")
    if not isinstance(boards, dict):
        boards = data["boards"] = {}
    mine = boards.get(board)
    if not isinstance(mine, dict):
        mine = boards[board] = {}
    mine[name] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only home: the choice lasts this session


def load_collapsed(board: str) -> set[str] | None:
    """The columns collapsed on board `board` last time; None: never chosen (the config's default holds)."""
    chosen = _chosen(board, "collapsed")
    return {str(key) for key in chosen} if isinstance(chosen, list) else None


def save_collapsed(board: str, collapsed: set[str]) -> None:
    """Keep the collapsed columns of board `board` (other boards' choices are left as they are)."""
    _save(board, "collapsed", sorted(collapsed))


def load_density(board: str) -> str:
    """The card density chosen on board `board` last time; "comfortable" if none (or one this version lacks)."""
    chosen = _chosen(board, "density")
    return chosen if chosen in DENSITIES else DENSITIES[0]


def save_density(board: str, density: str) -> None:
    _save(board, "density", density)


__all__ = ["DENSITIES", "load_collapsed", "load_density", "save_collapsed", "save_density", "state_path"]
