"""Control characters from outside are shown visibly, never raw; ordinary text is untouched."""

from __future__ import annotations

import json

import pytest

from widgets.safe_text import json_safe, shown

RAW = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + list(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029")


def test_no_control_character_comes_out_raw():
    for multiline in (False, True):
        out = shown("".join(RAW), multiline=multiline)
        kept = {"\n", "\t"} if multiline else set()
        assert not set(out) & (set(RAW) - kept)


@pytest.mark.parametrize(("raw", "visible"), [
    ("clear\x1b[2Jscreen", "clear␛[2Jscreen"),
    ("osc\x1b]0;pwned\x07title", "osc␛]0;pwned␇title"),
    ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\link␛]8;;␛\\"),
    ("nul\x00 bs\x08 cr\r", "nul␀ bs␈ cr␍"),
    ("del\x7f", "del␡"),
    ("csi\x9b2J nel\x85", "csi\\u009b2J nel\\u0085"),
    ("abc\u202edef\u2066x\u2069\u200e\u200f\u061c", "abc\\u202edef\\u2066x\\u2069\\u200e\\u200f\\u061c"),
])
def test_each_kind_of_control_is_shown_visibly(raw, visible):
    assert shown(raw) == visible


def test_newlines_and_tabs_are_spaces_on_one_line_and_kept_on_several():
    assert shown("a\nb\tc\r\nd") == "a b c d"
    assert shown("a\nb\tc\r\nd\re", multiline=True) == "a\nb\tc\nd␍e"


@pytest.mark.parametrize("text", ["Café crème, naïve façade", "漢字かなカナ 한국어", "emoji 🎉👩‍💻🇫🇷", "[bold]x[/] {y}",
                                  "Ünïcödé – “quotes” … ✓ ␛ already", "עברית العربية"])
def test_ordinary_text_is_untouched(text):
    assert shown(text) == text
    assert shown(text, multiline=True) == text


def test_json_output_parses_back_to_the_same_text_with_nothing_raw():
    data = {"title": "a\x1b]0;x\x07b\x7f\x9b\u202e 漢字 é"}
    dumped = json_safe(json.dumps(data, ensure_ascii=False))
    assert json.loads(dumped) == data
    assert not set(dumped) & set(RAW)
    assert "漢字 é" in dumped
