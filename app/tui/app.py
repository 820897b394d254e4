"""The terminal app: `TriageApp(config, db_url).run()` opens the board.

The app wires things and holds no rules: it opens the database, builds the
one `Service` every write goes through, applies the `keys:` remapping from
config.yaml and shows the `BoardScreen`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from app.board.source import BoardSource
from app.config.settings import Config
from app.cli.collector import started
from app.config.yamlnodes import ConfigError
from app.board.stale import stale_rule
from app.tui.screens.board import BoardScreen
from app.service import Service
from data.board_queries import start_counting
from data.db import open_database
from data.live import Change, ChangeListener
from data.models import utcnow
from widgets.safe_text import shown
from widgets.textual_internals import FrameWatch, frames_held


def default_user(config: Config | None = None) -> str:
    """Who the changes are recorded as: `$TRIAGEBOARD_USER`, else the login name if it is a team handle;
    "" (a read-only board) when neither is (see `app.config.identity`)."""
    if config is None:
        return os.environ.get("TRIAGEBOARD_USER") or ""
    from app.config.identity import UnknownIdentity, resolve_user

    try:
        return resolve_user(config) or ""
    except UnknownIdentity:
        return ""


def binding_ids() -> set[str]:
    """Every binding id `keys:` may remap: the board's, its columns', the app's and every dialog's."""
    import inspect

    from app.tui.screens import (board, board_oncall, compose, detail, help, pickers, reports, triage_dialogs,
                                 triage_mode)
    from widgets import column, conversation

    ids = {binding.id for binding in TriageApp.BINDINGS if binding.id}
    for module in (board, board_oncall, compose, detail, help, pickers, reports, triage_dialogs, triage_mode, column,
                   conversation):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            ids.update(b.id for b in getattr(cls, "BINDINGS", ()) if getattr(b, "id", None))
        for name in ("TRIAGE_MODE_BINDINGS", "TRIAGE_BOARD_BINDINGS"):
            ids.update(b.id for b in getattr(module, name, ()) if b.id)
    return ids


def binding_groups() -> list[tuple[str, list[Binding]]]:
    """Each screen's (and widget's) bindings with ids, the app's among them: the keys that must not clash."""
    import inspect

    from app.tui.screens import (board, board_oncall, compose, detail, help, pickers, reports, triage_dialogs,
                                 triage_mode)
    from widgets import column, conversation

    groups: list[tuple[str, list[Binding]]] = []
    for module in (board, board_oncall, compose, detail, help, pickers, reports, triage_dialogs, triage_mode, column,
                   conversation):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            own = [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding) and b.id]
            if own and cls.__module__ == module.__name__:
                groups.append((name, [*own, *TriageApp.BINDINGS]))
    return groups


def _keys(keys: str) -> set[str]:
    return {key.strip() for key in keys.split(",") if key.strip()}


def key_clash(keymap: dict[str, str]) -> tuple[str, str, str] | None:
    """(remapped id, key, other id) when `keymap` gives a key to a second binding of one screen.

    Textual's keymap quietly takes the key from the other binding (`board.reports: t` left triage mode
    without a key). Bindings that share a key by design (triage mode's answers over the board's `u` and
    `r`, live only in their mode) are not a clash; a key the keymap adds to one of them is.
    """
    for _name, bindings in binding_groups():
        default = {b.id: _keys(b.key) for b in bindings}
        mapped = {ident: _keys(keymap[ident]) if ident in keymap else keys for ident, keys in default.items()}
        for ident in keymap:
            if ident not in mapped:
                continue
            for key in sorted(mapped[ident]):
                for other, keys in mapped.items():
                    if other != ident and key in keys and not default[ident] & default[other]:
                        return ident, key, other
    return None


def keymap_of(config: Config) -> dict[str, str]:
    """The `keys:` section of config.yaml: binding id -> key(s), e.g. `board.move_right: ctrl+l`.

    An id no binding has is a `ConfigError` (file, line, key): a typo would
    otherwise leave the key unmapped without a word. The dialogs are imported
    to list their ids only when the file remaps something.
    """
    section = config.sections.get("keys")
    if section is None:
        return {}
    keymap = {str(ident): str(keys) for ident, keys in section.data.items()}
    known = binding_ids()
    for ident in keymap:
        if ident not in known:
            raise section.fail(ident, f"no key binding has the id {ident!r} (the board lists them under ?, "
                                      "the README under Keys)")
    clash = key_clash(keymap)
    if clash is not None:
        ident, key, other = clash
        raise section.fail(ident, f"the key {key!r} would also be {other!r} on the same screen: give one of "
                                  "them another key (? lists every key)")
    return keymap


class TriageApp(FrameWatch, App[None]):
    """The board. Opening the database happens in the constructor, so a bad URL fails before the screen."""

    SHOWN_WITHIN = 0.3
    """Seconds a screen that has just come to the top has to reach the terminal before it is repainted
    (`check_shown`): a modal that is open is visible, never a board drawn over one that takes the keys."""

    CSS_PATH = Path(__file__).parent / "triageboard.tcss"  # absolute: subclasses elsewhere find it too
    TITLE = "triageboard"
    BINDINGS = [Binding("q", "quit", "Quit", id="app.quit")]

    def __init__(self, config: Config, db_url: str, clock: Callable[[], dt.datetime] | None = None,
                 user: str | None = None, demo: bool = False, *, service: Service | None = None,
                 first_counts: Future[dict[str, int]] | None = None) -> None:
        """`service`: the one the command line built over the database it opened (`clock` is then its
        clock); `first_counts`: its `start_counting()`, begun before Textual was imported."""
        super().__init__()
        self.demo = demo
        """Opened by `triageboard demo`: the header says so, so nobody triages fake tickets."""
        self.config = config
        self.db_url = db_url
        self.user = user if user is not None else default_user(config)
        self.logout_url = os.environ.get("TRIAGEBOARD_LOGOUT_URL", "")
        """Set by `triageboard serve` for a logged-in tab: the palette's "Log out" opens it in that tab."""
        if service is None:
            open_database(db_url)
            service = Service(config, clock or utcnow)
        self.service = service
        self.keymap = keymap_of(config)
        """config.yaml's `keys:`: applied here, and handed to the board, whose help names the remapped keys."""
        self.set_keymap(self.keymap)
        self.source = BoardSource(config.workflow, stale_rule=stale_rule(config), clock=service.clock,
                                  paging=service.paging_now_for, sla=config, calendar_loaded=False,
                                  first_counts=first_counts or start_counting())
        self.listener: ChangeListener | None = None
        """Hears changes committed by any session (team mode); started once the board is up."""
        self.last_input = 0.0
        """`time.monotonic()` of the last key or click: background walks give way for a second after it."""
        self._top_shown: tuple[Any, bool] | None = None
        """The screen that last came to the top, and whether a whole frame of it has reached the terminal since."""

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def action_command_palette(self) -> None:
        """Textual's palette, with an icon every terminal font draws (app.tui.commands.BoardPalette)."""
        from app.tui.commands import BoardPalette

        if self.use_command_palette and not BoardPalette.is_open(self):
            self.push_screen(BoardPalette(id="--command-palette"))

    def get_default_screen(self) -> BoardScreen:
        return BoardScreen(self.service, self.user, self.source, self.keymap)

    # -- live boards -----------------------------------------------------

    def on_mount(self) -> None:
        self.call_after_refresh(started)  # after the first paint: the collector runs again (app.cli.collector)
        self.call_after_refresh(self._listen, asyncio.get_running_loop())
        self.screen_change_signal.subscribe(self, self._screen_changed)

    # -- what the terminal shows ------------------------------------------

    def _screen_changed(self, screen) -> None:
        self._top_shown = (screen, False)
        self.set_timer(self.SHOWN_WITHIN, lambda: self.check_shown(screen))

    def frame_shown(self, screen) -> None:
        """A whole frame of `screen` went to the terminal (`FrameWatch`): it, and the dialog in it, were seen."""
        if self._top_shown is not None and self._top_shown[0] is screen:
            self._top_shown = (screen, True)
        seen_by = getattr(screen, "frame_shown", None)
        if seen_by is not None:
            seen_by()

    def check_shown(self, screen, attempt: int = 1) -> None:
        """`screen` came to the top a moment ago: repaint it if no whole frame of it reached the terminal since."""
        stack = self.screen_stack
        if not stack or stack[-1] is not screen:
            return  # gone (the app too, on the way out), or under another screen, which has its own check
        frame_reached = self._top_shown is not None and self._top_shown[0] is screen and self._top_shown[1]
        if frame_reached and getattr(screen, "shown_on_screen", True):
            return
        self.repaint_unshown(screen, f"not on the terminal {attempt * self.SHOWN_WITHIN:.1f}s after it came up")
        if attempt == 1 and hasattr(screen, "shown_on_screen"):  # a dialog that writes: the user is told, once
            self.notify("the dialog had not reached the screen and has been drawn again: read it before you "
                        "press enter", title="Redrawn", severity="warning", timeout=8)
        if attempt < 10:
            self.set_timer(self.SHOWN_WITHIN, lambda: self.check_shown(screen, attempt + 1))

    def repaint_unshown(self, screen, why: str) -> None:
        """Repaint the whole of `screen` (it is on top but not on the terminal), and say so in the log."""
        held = " (frames held by an open batch update)" if frames_held(self) else ""
        self.log.warning(f"repainting {type(screen).__name__}: {why}{held}")
        screen.refresh(layout=True)

    def config_failed(self, error: ConfigError) -> None:
        """A check of config.yaml run after the first paint failed: leave as the command line would."""
        self.exit(return_code=2, message=Text(f"triageboard: {error}"))  # Text: the path is never markup

    @work(thread=True, group="live-listener", exit_on_error=False)
    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the `ChangeListener` off the event loop (it connects, then waits until it listens).

        Its thread hands each batch to the loop without waiting for it, so
        stopping the listener on exit can never wait on a loop that waits on it.
        """
        def heard(changes: list[Change]) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self.post_message, self.ChangesHeard(changes))

        listener = ChangeListener(self.db_url)
        self.listener = listener.start(heard)

    class ChangesHeard(Message):
        """A batch of changes committed by some session (this one included)."""

        def __init__(self, changes: list[Change]) -> None:
            super().__init__()
            self.changes = changes

    def on_triage_app_changes_heard(self, message: ChangesHeard) -> None:
        if any(isinstance(screen, BoardScreen) for screen in self.screen_stack):
            self.board.changes_heard(message.changes)

    def on_unmount(self) -> None:
        if self.listener is not None:
            self.listener.stop(timeout=1.0)

    @property
    def board(self) -> BoardScreen:
        return next(s for s in self.screen_stack if isinstance(s, BoardScreen))

    def notify(self, message: str, *, markup: bool = False, **options: Any) -> None:
        """Toasts quote users' words (keys, handles, refusals naming them): never read them as markup,
        and show their control characters escaped (`widgets.safe_text`).

        `markup` is accepted and ignored: Textual's `Widget.notify` (every screen's toast) passes
        `markup=True`, which made a key like `[SET-1]` vanish from a screen's toast."""
        del markup
        if isinstance(options.get("title"), str):
            options["title"] = shown(options["title"])
        super().notify(shown(message, multiline=True), markup=False, **options)


__all__ = ["TriageApp", "binding_ids", "default_user", "keymap_of"]
