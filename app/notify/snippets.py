"""Canned responses (`notify.snippets` in `config.yaml`): the words a steward sends most days.

The seeds ask for the same few messages again and again: "communicate that
you have received it and note the next steps" (2i2c), "ask any follow-up
questions, and provide an ETA" (Sourcegraph), "tell the user what you've
done". A snippet is that text, written once, with the placeholders of a
reply (`{requester}`, `{key}`, `{title}`, …), and the triage answers sending
it fulfils (`sets: [acknowledged]`), so the checkbox follows the message
instead of being ticked by hand.

Placeholders are checked when the configuration loads, like the templates'
(`app.notify.templates.check_template`): a `{titel}` stops the board with the
file, line and key, not a steward in the middle of a reply.
"""

from __future__ import annotations

from typing import Mapping

import msgspec

from app.config.yamlnodes import LineDict, LineList, Section
from app.notify.templates import _render_text, check_template

SETS = ("acknowledged", "next_steps_sent", "eta")
"""The triage answers a reply can fulfil (seed 002's "communication" questions)."""

PLACEHOLDERS = frozenset({"key", "title", "requester", "status", "by", "eta"})
"""What a snippet's text may use: the ticket, the requester's name, its support status,
the sender's name, and the ETA given with the reply (or the one the ticket has)."""

MAX_TEXT = 20_000
"""The longest snippet text: a canned response is a message, not a document."""


class Snippet(msgspec.Struct, frozen=True):
    name: str
    text: str
    sets: tuple[str, ...] = ()
    """Triage answers a reply with this snippet sets: acknowledged, next_steps_sent (true), eta (the ETA given)."""

    def render(self, **values: str) -> str:
        """The text with its placeholders filled; a line whose placeholders are all empty is left out."""
        return _render_text(self.text, {name: values.get(name, "") or "" for name in PLACEHOLDERS}).rstrip("\n")


DEFAULTS: Mapping[str, Snippet] = {}
"""No configured snippets: `triageboard reply --snippet` names none (the repo's config.yaml has five)."""


def parse_snippets(section: Section | None) -> Mapping[str, Snippet]:
    """`notify.snippets`: name -> {text, sets}."""
    if section is None:
        return DEFAULTS
    snippets: dict[str, Snippet] = {}
    for name in section.keys():
        if not name.replace("_", "").replace("-", "").isalnum():
            raise section.fail(name, "a snippet name is letters, digits, - and _ (it is typed after --snippet)")
        if not isinstance(section.data.get(name), LineDict):
            raise section.fail(name, "expected a mapping {text, sets}")
        sub = section.section(name)
        sub.only("text", "sets")
        text = sub.require("text", str, convert=_checked)
        sets = ()
        if "sets" in sub and sub.data["sets"] is not None:
            if not isinstance(sub.data["sets"], LineList):
                raise sub.fail("sets", f"expected a list of {', '.join(SETS)}")
            for index, value, _, _ in sub.items("sets"):
                if value not in SETS:
                    raise sub.item_error("sets", index, f"{value!r} is not one of {', '.join(SETS)}")
            sets = tuple(dict.fromkeys(sub.data["sets"]))
        snippets[name] = Snippet(name=name, text=text, sets=sets)
    return snippets


def _checked(text: str) -> str:
    if not text.strip():
        raise ValueError("a snippet needs some text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"a snippet is at most {MAX_TEXT:,} characters")
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\x00)")
    check_template(text, PLACEHOLDERS)
    return text


__all__ = ["PLACEHOLDERS", "SETS", "Snippet", "parse_snippets"]
