"""What the board's parts (moves, triage keys, on-call panel, countdowns, live updates, view) see of the board.

The board screen composes these parts; each holds a `BoardHost` and nothing
else of it, so a part can be read (and changed) without the ~70 methods of
the screen, and no part imports `board.py` (the board imports them). The
protocol lists exactly what the parts use; anything else a part needs goes
here first, where the coupling shows.

`hosted_work` is Textual's `@work` for a part that is not a DOM node: the
worker runs on the board, so its groups, `exclusive=True` and
`app.workers` behave as when these methods were the board's own.
"""

from __future__ import annotations

from collections import deque
from functools import partial, wraps
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding
    from textual.message import Message
    from textual.timer import Timer
    from textual.worker import Worker

    from app.board.source import BoardSource
    from app.board.workflow import Workflow
    from app.service import Service
    from app.sla.countdown import RiskEntry
    from widgets.card import Card
    from widgets.column import Column


class BoardHost(Protocol):
    """The board screen, as its parts use it."""

    service: Service
    workflow: Workflow
    user: str
    """The team handle writes are recorded by ("" on a read-only board)."""
    source: BoardSource
    undo_stack: list[str]
    """Keys of the cards moved in this session, newest last (`u` takes them back in turn)."""
    writes: WriteGate
    own_versions: dict[int, int]
    """Versions this board wrote or was shown after a conflict: the live listener's echo of them is skipped."""

    @property
    def app(self) -> App: ...

    @property
    def columns(self) -> list[Column]: ...

    @property
    def focused_column(self) -> Column: ...

    @property
    def current_card(self) -> Card | None: ...

    def column(self, state: str) -> Column: ...

    def activate(self, column: Column) -> None: ...

    def focus_card(self, state: str, position: int | None) -> None: ...

    def show_card(self, column: Column, card: Card | None) -> None:
        """Describe `card` in the status line now (the triage panel follows)."""

    def described(self) -> tuple[Column, Card | None] | None:
        """The column and card the status line describes now (a key acts on nothing else)."""

    def refused_read_only(self) -> bool: ...

    def panel_toggled(self) -> None:
        """The triage panel opened or closed: the room the columns share changed."""

    def recount(self) -> None:
        """Every header re-read in the background (after a burst of writes)."""

    def apply_counts(self, counts: dict[str, int]) -> None:
        """Headers only: a column whose count is unchanged does not repaint."""

    def count_untriaged(self) -> None:
        """The header's untriaged figure, re-read in the background."""

    def refresh_totals(self) -> None:
        """The whole counts beside a filtered view's, re-read (cleared when nothing is filtered)."""

    def count_at_risk(self) -> None:
        """A new at-risk snapshot, taken in the background."""

    def live_busy(self) -> bool:
        """Another session's change is being shown (heard, worked out, or painted a moment ago)."""

    def refresh_risk_view(self) -> None:
        """The at-risk view re-paged from its snapshot, each cursor kept on its card."""

    def patch_risk(self, risky: list[RiskEntry] | tuple[RiskEntry, ...], gone: list[int]) -> None:
        """Fresh at-risk entries (and cards no longer at risk) into the snapshot the header counts."""

    def update_sub_title(self) -> None: ...

    def show_counts(self, counts: dict[str, int]) -> None:
        """Every column re-read from its top with these counts (the filter's and the views' way)."""

    def label_pages(self, pages: dict[str, dict[int, list[Card]]]) -> None:
        """In a worker: the countdowns of cards the fresh pages hold unlabelled."""

    def bound_keys(self) -> dict[str, list[Binding]]:
        """The board's bindings after `keys:` remapping, key by key, whether live in this mode or not."""

    def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...

    def query(self, selector: Any = None) -> Any: ...

    def mount(self, *widgets: Any, before: Any = None, after: Any = None) -> Any:
        """A widget the board shows on demand (the `/` line), mounted when first asked for."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def refresh_bindings(self) -> None: ...

    def set_timer(self, delay: float, callback: Any = None, *, name: str | None = None,
                  pause: bool = False) -> Timer: ...

    def set_interval(self, interval: float, callback: Any = None, *, name: str | None = None,
                     repeat: int = 0, pause: bool = False) -> Timer: ...

    def call_later(self, callback: Callable, *args: Any, **kwargs: Any) -> bool: ...

    def call_after_refresh(self, callback: Callable, *args: Any, **kwargs: Any) -> bool: ...

    def run_worker(self, work: Any, name: str | None = "", group: str = "default", description: str = "",
                   exit_on_error: bool = True, start: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Worker: ...


class WriteGate:
    """One write at a time on a board, the rest replayed in order once it is done.

    Writes are serialised by this flag rather than `exclusive=True`: cancelling a
    thread worker cannot stop a transaction, and a second move of the same card
    must see the first one's new version. A key pressed during a write is
    replayed on the fresh board (`after`), not on the card it was pressed on.
    """

    def __init__(self, idle: Callable[[], None]) -> None:
        self.busy = False
        self.last_write = 0.0
        """When the last move was asked for (`time.monotonic`): the at-risk walk gives way for a second."""
        self.started = 0
        """Writes started since the board last re-read its headers (`BoardScreen.recount`)."""
        self.untriaged_unchanged = 0
        """How many of them cannot have changed the untriaged figure (moves of triaged cards)."""
        self._queued: deque[Callable[[], None]] = deque()
        self._idle = idle
        """Called when a write ends and nothing is queued (the board's recount)."""

    def after(self, replay: Callable[[], None]) -> None:
        self._queued.append(replay)

    def start(self) -> None:
        self.busy = True
        self.started += 1

    def done(self) -> None:
        self.busy = False
        if self._queued:
            self._queued.popleft()()
        else:
            self._idle()


class forwarded:
    """A screen attribute that is a part's method: `action_undo = forwarded("moves")`.

    Textual looks actions (`action_*`) and message handlers (`on_*`) up on
    the screen; this hands the lookup to the part, so the screen names what
    it owns in one line each and the part's method is what runs (and what
    `self.action_undo` is, for the command palette).
    """

    def __init__(self, part: str, name: str | None = None) -> None:
        self.part = part
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        if self.name is None:
            self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return getattr(getattr(instance, self.part), self.name)


def hosted_work(*, group: str, exclusive: bool = False) -> Callable:
    """`@work(thread=True, exit_on_error=False, ...)` for a method of a part: the worker runs on `self.host`."""

    def decorator(method: Callable) -> Callable[..., Worker]:
        @wraps(method)
        def decorated(self: Any, *args: Any, **kwargs: Any) -> Worker:
            return self.host.run_worker(partial(method, self, *args, **kwargs), name=method.__name__, group=group,
                                        description=method.__qualname__, exclusive=exclusive,
                                        exit_on_error=False, thread=True)

        return decorated

    return decorator


__all__ = ["BoardHost", "WriteGate", "forwarded", "hosted_work"]
