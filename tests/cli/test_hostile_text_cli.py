"""`ticket show` / `ticket list`, piped, print a hostile title's controls escaped; `--json` keeps the text."""

from __future__ import annotations

import json

from app.notify.templates import DEFAULTS

HOSTILE = "clear\x1b[2Jscreen osc\x1b]0;pwned\x07t \x1b]8;;http://evil\x1b\\link\u202eRTL\x9b"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def assert_nothing_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text


def test_show_and_list_print_controls_escaped_and_json_keeps_the_text(run_cli):
    added = run_cli("ticket", "add", HOSTILE, "--description", "one\ntwo \x1b]0;x\x07",
                    "--requester", "r@example.org", "--requester-name", "Eve\x1b]0;pwned\x07")
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    shown = run_cli("ticket", "show", key)
    assert shown.returncode == 0, shown.stderr
    assert "clear␛[2Jscreen osc␛]0;pwned␇t ␛]8;;http://evil␛\\link\\u202eRTL\\u009b" in shown.stdout
    assert "Eve␛]0;pwned␇" in shown.stdout and "one\n  two ␛]0;x␇" in shown.stdout
    assert_nothing_raw(shown.stdout)
    listed = run_cli("ticket", "list")
    assert "clear␛[2Jscreen" in listed.stdout
    assert_nothing_raw(listed.stdout)
    for args in (("ticket", "show", key, "--json"), ("ticket", "list", "--json")):
        out = run_cli(*args).stdout
        assert_nothing_raw(out)
        data = json.loads(out)
        assert (data if isinstance(data, dict) else data[0])["title"] == HOSTILE  # stored and exported unchanged


def test_an_error_line_quoting_a_hostile_key_is_escaped(run_cli):
    refused = run_cli("ticket", "show", "SET-\x1b]0;pwned\x07")
    assert refused.returncode == 1
    assert "pwned" in refused.stderr
    assert_nothing_raw(refused.stderr)


def test_a_mail_subject_carries_no_control_and_the_body_keeps_the_text():
    subject, body = DEFAULTS.render("reply", key="SET-1", title=HOSTILE, name="Al", sender="e@x.org",
                                    sender_name="Eve\u202e", reply_subject="Re: \x1b]0;x\x07", text="hi\x1b[2J",
                                    status="Open")
    assert_nothing_raw(subject)
    assert "clear␛[2Jscreen" in subject
    assert "hi\x1b[2J" in body
