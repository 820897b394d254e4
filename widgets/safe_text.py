"""Text from outside, made safe to show on a terminal: every control character visible, none raw.

Titles, descriptions, names, mail and imported rows are stored exactly as
they came; this is where they are shown. A terminal obeys what it is sent: an
ESC starts a sequence that can clear the screen, move the cursor, set the
window's title (OSC 0) or plant a hyperlink (OSC 8), and a C1 control (CSI is
U+009B) does the same on terminals that read 8-bit controls. The
bidirectional overrides and isolates (U+202E ...) reorder what follows them,
so a line no longer reads as what it holds. `rich.control.strip_control_codes`
removes only BEL, BS, VT, FF and CR, so every such character is replaced
here instead, by something visible that the terminal only prints:

- C0 controls by their Unicode control pictures (ESC is "␛", NUL "␀");
- DEL by "␡";
- C1 controls, the bidirectional marks, overrides and isolates, and the line
  and paragraph separators by their escape, e.g. "\\u009b", "\\u202e" (also
  a valid escape in a JSON string, so `json_safe` can use the same form).

A newline is part of the text only where the text is shown on several lines
(a description in the detail view, a mail body): `shown(text, multiline=True)`
keeps newlines and tabs there; everywhere else (a card, the status line, a
title, a table cell, a line of `ticket list`) they become spaces, so one
ticket stays on one line.

Pure: the widgets, the screens, the command line and the outbox all use it.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")
_ESCAPED = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029]")
_ONE_LINE = {"\n": " ", "\t": " "}
_MULTILINE = {"\n": "\n", "\t": "\t"}


def _picture(char: str, keep: dict[str, str]) -> str:
    if char in keep:
        return keep[char]
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␀ ... ␟, in code point order
    if code == 0x7F:
        return "␡"
    return f"\\u{code:04x}"


def shown(text: str, multiline: bool = False) -> str:
    """`text` with every control character and bidirectional override made visible (see the module).

    Ordinary text (accents, CJK, emoji, markup-like brackets) comes back
    unchanged; with `multiline`, newlines (CR LF read as one) and tabs are kept.
    """
    if not _UNSAFE.search(text):
        return text  # the common case: one scan, no copy
    keep = _MULTILINE if multiline else _ONE_LINE
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(lambda match: _picture(match.group(), keep), text)


def json_safe(dumped: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with DEL, C1 and the bidirectional
    characters written as `\\uXXXX` escapes too: the same data once parsed, and nothing raw on a
    terminal. (`json.dumps` already escapes C0; these it leaves raw, and they only occur inside strings.)"""
    return _ESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


__all__ = ["json_safe", "shown"]
