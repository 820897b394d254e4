"""`triageboard reply`, `note`, `link` and `ticket edit` as a script calls them: a subprocess, exit codes, output."""

from __future__ import annotations

import json

import pytest

MONDAY_9 = "2026-11-16T09:00:00+00:00"
MONDAY_4PM = "2026-11-16T16:00:00+00:00"  # one working hour before the first response is due: warning


@pytest.fixture
def key(run_cli):
    added = run_cli("ticket", "add", "Hub will not start", "--requester", "rita@customer.example",
                    "--requester-name", "Rita Reyes", now=MONDAY_9)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def show(run_cli, key, now=MONDAY_4PM):
    result = run_cli("ticket", "show", key, "--json", now=now)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_snippet_reply_turns_the_first_response_from_warning_to_met(run_cli, key):
    before = run_cli("ticket", "show", key, now=MONDAY_4PM).stdout
    assert "first response           due Mon 2026-11-16 17:00 GMT  warning" in before

    sent = run_cli("reply", key, "--snippet", "acknowledgement", now=MONDAY_4PM)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.splitlines() == [f"{key}: reply to rita@customer.example queued ([{key}] Re: Hub will not start)",
                                        f"{key}: set acknowledged yes"]
    after = run_cli("ticket", "show", key, now=MONDAY_4PM).stdout
    assert "first response           due Mon 2026-11-16 17:00 GMT  met" in after
    assert "      > Hello Rita Reyes," in after
    data = show(run_cli, key)
    assert data["sla"]["first_response"]["state"] == "met"
    assert data["acknowledged"] is True
    assert [h["kind"] for h in data["history"]] == ["create", "reply", "triage"]


def test_a_reply_from_standard_input(run_cli, key):
    sent = run_cli("reply", key, "-", stdin="Hello Rita,\n\nplease try again now.\n", now=MONDAY_4PM)
    assert sent.returncode == 0, sent.stderr
    reply = show(run_cli, key)["history"][-1]
    assert reply["kind"] == "reply" and reply["detail"]["text"] == "Hello Rita,\n\nplease try again now."
    assert reply["internal"] is False


@pytest.mark.parametrize("args, stdin, message", [
    (("--snippet", "thanks"), None, "unknown snippet 'thanks' (snippets: acknowledgement, next_steps, eta, "
                                    "resolution, logs)"),
    ((), None, "give the reply with --text TEXT, - (standard input) or --snippet NAME"),
    (("-",), "   \n", "a reply needs some text"),
    (("--text", "a", "-"), "b", "not both"),
    (("--snippet", "eta"), None, "snippet 'eta' gives an ETA: say which with --eta"),
    (("-",), "a\x00b", "NUL"),
])
def test_bad_reply_input_is_one_line_and_exit_2(run_cli, key, args, stdin, message):
    result = run_cli("reply", key, *args, stdin=stdin)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert [h["kind"] for h in show(run_cli, key)["history"]] == ["create"]


def test_refused_replies_exit_1(run_cli, key):
    run_cli("ticket", "add", "Rotate the keys")
    no_address = run_cli("reply", "SET-2", "--text", "hi")
    assert no_address.returncode == 1 and "SET-2 has no requester e-mail to reply to" in no_address.stderr
    missing = run_cli("reply", "SET-9", "--text", "hi")
    assert missing.returncode == 1 and "no ticket 'SET-9'" in missing.stderr


def test_a_note_is_internal_in_show_and_json(run_cli, key):
    added = run_cli("note", key, "--text", "Rita's hub runs on cluster B.\nSee #support-triage.")
    assert (added.returncode, added.stdout) == (0, f"{key}: internal note added (never mailed)\n")
    text = run_cli("ticket", "show", key).stdout
    assert "INTERNAL" in text and "note (internal)" in text
    assert "      | Rita's hub runs on cluster B." in text and "      | See #support-triage." in text
    note = show(run_cli, key)["history"][-1]
    assert (note["kind"], note["internal"], note["detail"]) == (
        "note", True, {"text": "Rita's hub runs on cluster B.\nSee #support-triage."})
    empty = run_cli("note", key, "-", stdin="")
    assert empty.returncode == 2 and "a note needs some text" in empty.stderr


def test_ticket_edit_changes_fields_with_before_and_after(run_cli, key):
    edited = run_cli("ticket", "edit", key, "--title", "JupyterHub will not start", "--kind", "incident",
                     "--requester-email", "rita.reyes@customer.example")
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.splitlines() == [f"{key}: title: Hub will not start -> JupyterHub will not start",
                                          f"{key}: requester email: rita@customer.example -> "
                                          "rita.reyes@customer.example",
                                          f"{key}: kind: bug -> incident"]
    data = show(run_cli, key)
    assert (data["title"], data["kind"], data["requester_email"]) == (
        "JupyterHub will not start", "incident", "rita.reyes@customer.example")
    assert data["history"][-1]["detail"]["changes"]["title"] == ["Hub will not start", "JupyterHub will not start"]
    assert "edited title: 'Hub will not start' → 'JupyterHub will not start'" in run_cli("ticket", "show", key).stdout


@pytest.mark.parametrize("args, message", [
    ((), "nothing to change"),
    (("--kind", "story"), "unknown kind 'story'"),
    (("--requester-email", "rita@x\r\nBcc: evil@x"), "is not an e-mail address"),
    (("--title", " "), "a ticket needs a title"),
])
def test_bad_edits_exit_2(run_cli, key, args, message):
    result = run_cli("ticket", "edit", key, *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr
    assert [h["kind"] for h in show(run_cli, key)["history"]] == ["create"]


def test_links_show_in_text_and_json(run_cli, key):
    linked = run_cli("link", key, "https://github.com/2i2c-org/infrastructure/issues/4711")
    assert linked.returncode == 0, linked.stderr
    assert linked.stdout == (f"{key}: linked GitHub issue 2i2c-org/infrastructure#4711 "
                             "<https://github.com/2i2c-org/infrastructure/issues/4711>\n")
    assert run_cli("link", key, "https://support.example.org/t/981", "--label", "FreshDesk 981").returncode == 0
    text = run_cli("ticket", "show", key).stdout
    assert "links:\n  GitHub issue 2i2c-org/infrastructure#4711  <https://github.com/2i2c-org/infrastructure/issues/4711>\n" \
           "  FreshDesk 981  <https://support.example.org/t/981>\n" in text
    assert [(link["label"], link["url"]) for link in show(run_cli, key)["links"]] == [
        ("GitHub issue 2i2c-org/infrastructure#4711", "https://github.com/2i2c-org/infrastructure/issues/4711"),
        ("FreshDesk 981", "https://support.example.org/t/981")]
    bad = run_cli("link", key, "javascript:alert(1)")
    assert bad.returncode == 2 and "only http, https, mailto links are kept" in bad.stderr


def test_hostile_text_in_a_note_and_a_reply_is_shown_escaped(run_cli, key):
    run_cli("note", key, "--text", "[bold]x[/] \x1b]0;pwned\x07 done")
    run_cli("reply", key, "--text", "\x1b[2J cleared?")
    text = run_cli("ticket", "show", key).stdout
    assert "\x1b" not in text and "\x07" not in text
    assert "[bold]x[/]" in text and "␛" in text
