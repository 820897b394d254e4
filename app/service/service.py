"""The one service object the TUI and the command line call: every capability on one write path."""

from __future__ import annotations

from app.service.conversation import Conversation
from app.service.creation import Creation
from app.service.intake import Intake
from app.service.moves import Moves
from app.service.paging import Paging
from app.service.public import Public
from app.service.reminders import Reminders
from app.service.replies import Replies
from app.service.triage import Triage


class Service(Moves, Triage, Paging, Replies, Reminders, Creation, Conversation, Intake, Public):
    """Ticket operations over the bound database, with an injectable clock for tests.

    Each base adds the commands of one capability to the same `WritePath`
    (`app.service.core`), so every command shares its transaction, version
    guard, history and outbox; the bases never call each other, except a
    reply's move back to work, which `Replies` declares and `Moves` supplies, and a
    snippet's triage answers, which `Conversation` declares and `Triage` supplies, and the
    requester's page (`Public`), which declares the reply, the move, Solved and the conversation.
    """
