"""Templates and the notify: section: the words are configurable, mistakes are caught at load time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.notify import drafts as outbox
from app.config.settings import load_config
from app.notify.templates import DEFAULTS
from app.config.yamlnodes import ConfigError

from notify_support import write_config


def test_status_subject_carries_the_key_and_the_body_the_reply_footer():
    draft = outbox.status_change(key="SET-42", title="Login loops", requester_email="r@x.org", before="Open",
                                 after="In Progress", reason="", requester_name="Rita", domain="example.org")
    assert draft.subject == "[SET-42] Your request is now In Progress"
    assert draft.body.startswith("Hello Rita,\n\nYour request SET-42 \"Login loops\" changed from Open to In Progress.\n")
    assert "Reason:" not in draft.body  # an empty reason drops its line
    assert draft.body.rstrip().endswith("please keep [SET-42] in the subject.")
    assert draft.message_id.startswith("<set-42.") and draft.message_id.endswith("@example.org>")
    assert outbox.status_change(key="SET-42", title="t", requester_email="r@x.org", before="Open",
                                after="Open") is None


def test_every_kind_renders_with_the_defaults():
    drafts = [
        outbox.escalation_page(key="SET-7", title="Checkout down", recipient="bob@x.org", name="Bob", handle="bob",
                               step="SET backup", priority="P1", since="09:14"),
        outbox.response_reminder(key="SET-7", title="Checkout down", recipient="bob@x.org", name="Bob",
                                 target="an update to the requester", due="Thu 10:00"),
        outbox.reply_received(key="SET-7", title="Checkout down", recipient="bob@x.org", name="Bob",
                              sender="r@x.org", subject="Re: …", text="more info", status="In Progress"),
        outbox.solved(key="SET-7", title="Checkout down", recipient="bob@x.org", name="Bob"),
    ]
    assert [d.kind for d in drafts] == ["page", "reminder", "reply", "solved"]
    assert all(d.subject.startswith("[SET-7] ") and "[SET-7]" in d.body for d in drafts)
    assert "triageboard ack SET-7 --by bob" in drafts[0].body


def config_with(tmp_path: Path, extra: str) -> Path:
    return write_config(tmp_path / "config.yaml", 2525, extra)


def test_templates_are_overridable(tmp_path: Path):
    config = load_config(config_with(tmp_path, 'templates:\n'
                                                '  status: {subject: "{key}: now {after}"}\n'
                                                '  footer: "Answer above this line ({key})"\n'))
    draft = outbox.status_change(key="SET-1", title="t", requester_email="r@x.org", before="Open", after="Released",
                                 templates=config.notify.templates)
    assert draft.subject == "SET-1: now Released"
    assert draft.body.rstrip().endswith("Answer above this line (SET-1)")
    assert "changed from Open to Released" in draft.body  # the default body stays


@pytest.mark.parametrize("extra, offset, key, message", [
    ("templates:\n  statsu: {subject: x}\n", 1, "notify.templates.statsu", "unknown key"),
    ('templates:\n  status:\n    subject: "[{key}] {titel}"\n', 2, "notify.templates.status.subject",
     "unknown placeholder {titel}"),
    ('templates:\n  page: {body: "{key.__class__}"}\n', 1, "notify.templates.page.body",
     "unknown placeholder {key.__class__}"),
    ('templates:\n  footer: "{key"\n', 1, "notify.templates.footer", "not a valid template"),
    ("retry: {max_attempts: 0}\n", 0, "notify.retry.max_attempts", "at least 1"),
    ("retry: {backoff: soon}\n", 0, "notify.retry.backoff", "expected a duration"),
    ("webhook: {url: 'ftp://x'}\n", 0, "notify.webhook.url", "not an http(s) URL"),
])
def test_bad_notify_settings_name_file_line_and_key(tmp_path: Path, extra: str, offset: int, key: str,
                                                    message: str):
    path = config_with(tmp_path, "")
    text = path.read_text().replace("  retry:\n    max_attempts: 3\n    backoff: 1m\n", "")
    first = text.count("\n") + 1  # the line the extra text starts on
    path.write_text(text + "".join(f"  {line}\n" for line in extra.splitlines()))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.line, error.key) == (first + offset, key)
    assert message in error.message and error.path.endswith("config.yaml")


def test_smtp_settings(tmp_path: Path):
    path = tmp_path / "c.yaml"
    base = config_with(tmp_path, "").read_text()
    path.write_text(base.replace("    from: Support <support@example.org>\n",
                                 "    from: Support <support@example.org>\n    user: tb\n"))
    with pytest.raises(ConfigError, match="password_env"):
        load_config(path)
    path.write_text(base.replace("    from: Support <support@example.org>\n",
                                 "    from: Support <support@example.org>\n    ssl: true\n    starttls: true\n"))
    with pytest.raises(ConfigError, match="not both"):
        load_config(path)
    path.write_text(base.replace("    from: Support <support@example.org>\n",
                                 "    from: \"x@y.org\\r\\nBcc: z@w.org\"\n"))
    with pytest.raises(ConfigError, match="not an e-mail address"):
        load_config(path)
    config = load_config(config_with(tmp_path, ""))
    assert (config.notify.smtp.host, config.notify.smtp.port, config.notify.domain) == (
        "127.0.0.1", 2525, "example.org")
    assert config.notify.retry.delay(1) == dt.timedelta(minutes=1)
    assert config.notify.retry.delay(3) == dt.timedelta(minutes=4)
    assert config.notify.retry.delay(30) == dt.timedelta(hours=6)


def test_the_example_config_has_a_working_notify_section():
    config = load_config(Path(__file__).resolve().parents[2] / "config.yaml")
    assert (config.notify.smtp.host, config.notify.smtp.port) == ("localhost", 8025)
    assert config.notify.templates == DEFAULTS
