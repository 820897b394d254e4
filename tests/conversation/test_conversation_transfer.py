"""Replies, notes, edits and links survive export and import; a note stays internal in the file."""

from __future__ import annotations

import io
import json

from app.board.transfer import export_json, import_file
from app.service import Service
from data.db import open_database
from data.models import History, Notification, Ticket


def test_export_then_import_keeps_the_conversation(service, ticket, config, new_db_url, tmp_path):
    service.reply(ticket.key, "We have it.", by="alice", snippet="acknowledgement")
    service.note(ticket.key, "cluster B", by="bob")
    service.link(ticket.key, "https://github.com/o/r/pull/7", by="bob")
    service.edit_ticket(ticket.key, {"title": "Hub did not start"}, by="bob")
    out = io.StringIO()
    export_json(service, out)
    exported = json.loads(out.getvalue())["tickets"][0]
    assert [(h["kind"], h["internal"]) for h in exported["history"]] == [
        ("create", False), ("reply", False), ("triage", False), ("note", True), ("link", False), ("edit", False)]
    assert exported["links"][0]["url"] == "https://github.com/o/r/pull/7"
    path = tmp_path / "board.json"
    path.write_text(out.getvalue(), encoding="utf-8")

    open_database(new_db_url())
    other = Service(config)
    assert import_file(other, path) == 1
    copy = other.get(ticket.key)
    assert copy.title == "Hub did not start"
    assert [(e.kind, e.audience) for e in other.conversation(copy)] == [
        ("create", "team"), ("reply", "requester"), ("triage", "team"), ("note", "internal"), ("link", "team"),
        ("edit", "team")]
    assert [link["label"] for link in other.links(copy)] == ["GitHub pull request o/r#7"]
    assert Notification.get().kind == "response"  # the reply's mail came along: the SLA still sees it
    assert History.select().where(History.kind == "note").get().detail == json.dumps({"text": "cluster B"})
    assert Ticket.select().count() == 1
