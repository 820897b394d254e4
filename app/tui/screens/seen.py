"""Dialogs whose answer writes or mails act only once they have been on the screen.

A pushed screen takes the keys as soon as it is on the stack, whether or not the terminal
shows it. One way it goes unshown in Textual 8.2.8: the screen's first frame is worked out,
clearing what had to be repainted, and then dropped while a batch of updates is open
(`App.batch_update`, `delay_update`), and nothing repaints it until something else on it
changes. The board stays on the terminal, the dialog has the keys, and enter picks whatever
is highlighted (the hold reason that mails the requester), unseen. The On Hold case of
issue 19 was not reproduced, so the guard does not rely on knowing the cause: such a dialog ignores its confirming key until a whole frame with it in has
gone to the terminal (`TriageApp.frame_shown`, through `widgets.textual_internals.FrameWatch`),
and the app repaints a screen that has not been shown soon after it was pushed
(`TriageApp.check_shown`).
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.errors import NoWidget


class SeenFirst:
    """Mixed into a `ModalScreen` (before it) whose answer writes: `seen()` before acting on enter."""

    shown_on_screen: bool = False
    """A whole frame went to the terminal with the dialog's box laid out in it."""

    def frame_shown(self) -> None:
        """The app handed a whole frame of this screen to the terminal: did it hold the dialog?"""
        if self.shown_on_screen:
            return
        try:
            box = self.query(".dialog").first()  # type: ignore[attr-defined]
            where = self.find_widget(box)  # type: ignore[attr-defined]
        except (NoMatches, NoWidget):
            return  # not laid out yet: the frame showed the board without it
        self.shown_on_screen = bool(where.visible_region.area)

    def seen(self) -> bool:
        """True when the dialog has been on the screen; otherwise say so, redraw it and refuse."""
        if self.shown_on_screen:
            return True
        app = self.app  # type: ignore[attr-defined]
        app.bell()
        app.notify("the dialog was not on the screen yet, so nothing was done: it is drawn now; read it and "
                   "press enter again", title="Not done", severity="warning", timeout=8)
        app.repaint_unshown(self, "a key confirmed it before it was shown")
        return False


__all__ = ["SeenFirst"]
