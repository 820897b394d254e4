"""Reply, note, edit and link through the one write path (issue 15, items 1-4), as plain service calls."""

from __future__ import annotations

import datetime as dt
import json
from email.parser import BytesParser
from email.policy import default

import pytest

from app.board.serialize import ticket_dict
from app.notify.delivery import build_message
from app.notify.inbound import Reply
from app.service import Conflict, NotFound, Refused
from app.sla.source import statuses
from data import outbox as outbox_data
from data.models import History, Notification, Ticket


def entries(ticket, kind=None):
    query = History.select().where(History.ticket == ticket.id)
    if kind:
        query = query.where(History.kind == kind)
    return list(query.order_by(History.id))


def mail(service, row) -> "EmailMessage":
    ticket = Ticket.get_by_id(row.ticket_id)
    earlier = outbox_data.earlier_message_ids(ticket.id, row.id, row.recipient)  # as delivery passes it
    message = build_message(row, ticket, service.config.notify, "Rita Reyes", earlier)
    return BytesParser(policy=default).parsebytes(message.as_bytes())


# -- 1. reply ---------------------------------------------------------------------


def test_a_reply_is_one_history_entry_and_one_mail_to_the_requester(service, ticket, clock):
    clock.advance(minutes=10)
    sent = service.reply(ticket.key, "Hello Rita,\n\nwe are looking at the spawner now.", by="alice")
    (entry,) = entries(ticket, "reply")
    assert (entry.by, entry.at) == ("alice", clock.now)
    detail = json.loads(entry.detail)
    assert detail["text"] == "Hello Rita,\n\nwe are looking at the spawner now."
    assert detail["to"] == "rita@customer.example"
    (row,) = Notification.select()
    assert (row.kind, row.recipient, row.subject) == ("response", "rita@customer.example",
                                                      "[SET-1] Re: Hub will not start")
    assert row.body.startswith("Hello Rita,\n\nwe are looking at the spawner now.\n\n--\n")
    assert detail["message_id"] == row.message_id == sent.notification.message_id
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.first_response == clock.now == fresh.last_requester_update
    assert fresh.version == ticket.version + 1


def test_the_mail_threads_on_the_ticket_and_answers_the_requesters_latest_mail(service, ticket, clock):
    service.move(ticket.key, "on_hold", hold_reason="requester", by="alice", reason="which browser?")
    status_mail = Notification.get()
    Notification.update(status="sent", sent_at=clock.now).execute()  # delivered: Rita answers it
    clock.advance(hours=1)
    service.receive_reply(Reply(sender="rita@customer.example", sender_name="Rita Reyes", subject="Re: [SET-1]",
                                message_id="<abc@customer.example>", references=(status_mail.message_id,),
                                text="Firefox 128"))
    clock.advance(hours=1)
    sent = service.reply(ticket.key, "Thanks, that helps.", by="alice")
    message = mail(service, sent.notification)
    thread = f"<set-1.{Ticket.get_by_id(ticket.id).thread_token}.thread@example.org>"
    assert message["Message-ID"] == sent.notification.message_id != status_mail.message_id
    # It answers the newest mail between us: the one telling her that her answer took the ticket back to work.
    assert message["In-Reply-To"] == message["References"].split()[-1]
    # The thread first, then every earlier mail between us and Rita: the Pending mail, her answer, and the
    # mail telling her the ticket is back In Progress (her answer moved it); a superseded or failed mail, which
    # never reached her, would not be there.
    earlier = [n.message_id for n in Notification.select().where(Notification.id != sent.notification.id)
               .order_by(Notification.id)]
    assert len(earlier) == 2 and earlier[0] == status_mail.message_id
    assert message["References"].split()[0] == thread
    assert sorted(message["References"].split()[1:]) == sorted([*earlier, "<abc@customer.example>"])
    assert message["Reply-To"] == "support@example.org"
    assert "[SET-1]" in message["Subject"]
    # The requester's answer to it comes back to this ticket by its Message-ID.
    answer = Reply(sender="rita@customer.example", sender_name="", subject="Re: Re:", message_id="<def@c>",
                   references=(sent.notification.message_id,), text="ok")
    assert service.find_reply_ticket(answer).id == ticket.id


def test_header_injection_in_title_name_and_text_stays_text(service, clock):
    evil = service.create(title="Broken\r\nBcc: all@evil.example", requester_email="rita@customer.example",
                          requester_name="Rita\r\nBcc: name@evil.example", by="alice")
    sent = service.reply(evil.key, "Hi\r\nBcc: body@evil.example\r\n\r\nreal text", by="alice")
    raw = build_message(sent.notification, Ticket.get_by_id(evil.id), service.config.notify,
                        "Rita\r\nBcc: name@evil.example").as_bytes()
    message = BytesParser(policy=default).parsebytes(raw)
    assert message.get_all("Bcc") is None
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Subject"] == "[SET-1] Re: Broken Bcc: all@evil.example"
    assert [line for line in raw.split(b"\r\n") if line.lower().startswith(b"bcc")] == []
    assert "Bcc: body@evil.example" in message.get_body(("plain",)).get_content()  # in the body: just words


def test_a_reply_meets_the_first_response_and_restarts_the_update_clock(service, ticket, clock):
    # Created Mon 09:00; first response due in 1 working day (Mon 17:00), warning from 15:00.
    clock.set(2026, 11, 16, 16, 0)
    before = statuses(service.config, [ticket.id], clock())[ticket.id]
    assert before.first_response.state == "warning"
    service.reply(ticket.key, "We have it.", by="alice")
    after = statuses(service.config, [ticket.id], clock())[ticket.id]
    assert after.first_response.state == "met"
    # Updates every 2 working days from the reply: Wed 16:00, not from creation (Wed 09:00).
    assert after.update_every.due.astimezone(dt.timezone.utc).replace(tzinfo=None) == dt.datetime(2026, 11, 18, 16)
    # Every reply is an update: one on Tuesday 10:00 moves the next one to Thursday 10:00.
    clock.set(2026, 11, 17, 10, 0)
    service.reply(ticket.key, "Still on it.", by="alice")
    later = statuses(service.config, [ticket.id], clock())[ticket.id]
    assert later.update_every.due.astimezone(dt.timezone.utc).replace(tzinfo=None) == dt.datetime(2026, 11, 19, 10)


def test_a_snippet_is_filled_in_and_sets_the_triage_answer_in_the_same_write(service, ticket):
    assert "Rita Reyes" in service.snippet_text(ticket.key, "acknowledgement", by="alice")
    sent = service.reply(ticket.key, by="alice", snippet="acknowledgement")
    assert sent.notification.body.startswith("Hello Rita Reyes,\n\nThank you for getting in touch: we have "
                                             "received your request SET-1 (\"Hub will not start\").")
    assert "Alice Adams, for the support team" in sent.notification.body
    assert "{" not in sent.notification.body
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.acknowledged is True
    assert [h.kind for h in entries(ticket)] == ["create", "reply", "triage"]
    assert sent.triage.reason == "set acknowledged yes"
    assert json.loads(sent.history.detail)["snippet"] == "acknowledgement"


def test_an_eta_snippet_records_the_eta_given(service, ticket):
    with pytest.raises(Refused, match="snippet 'eta' gives an ETA"):
        service.reply(ticket.key, by="alice", snippet="eta")
    assert Notification.select().count() == 0 and entries(ticket, "reply") == []
    sent = service.reply(ticket.key, by="alice", snippet="eta", eta="Friday 20 November")
    assert "resolved by Friday 20 November" in sent.notification.body
    assert Ticket.get_by_id(ticket.id).eta == "Friday 20 November"


def test_edited_snippet_text_is_sent_as_written_and_still_sets_the_answer(service, ticket):
    service.reply(ticket.key, "Next: we restart the spawner {not a placeholder}.", by="alice", snippet="next_steps")
    assert Notification.get().body.startswith("Next: we restart the spawner {not a placeholder}.")
    assert Ticket.get_by_id(ticket.id).next_steps_sent is True


def test_an_unknown_snippet_names_the_known_ones_and_writes_nothing(service, ticket):
    with pytest.raises(Refused) as refused:
        service.reply(ticket.key, by="alice", snippet="thanks")
    assert str(refused.value) == ("unknown snippet 'thanks' (snippets: acknowledgement, next_steps, eta, "
                                  "resolution, logs)")
    assert Notification.select().count() == 0 and Ticket.get_by_id(ticket.id).version == ticket.version


@pytest.mark.parametrize("text, message", [
    ("", "a reply needs some text"),
    ("  \n\n ", "a reply needs some text"),
    ("a\x00b", "NUL"),
    ("x" * 100_001, "at most 100,000 characters"),
])
def test_a_bad_reply_is_refused_before_anything_is_written(service, ticket, text, message):
    with pytest.raises(Refused, match=message):
        service.reply(ticket.key, text, by="alice")
    assert Notification.select().count() == 0 and entries(ticket, "reply") == []


def test_no_requester_address_no_reply(service):
    internal = service.create(title="Rotate the keys", by="alice")
    with pytest.raises(Refused, match="SET-1 has no requester e-mail to reply to"):
        service.reply(internal.key, "hello", by="alice")
    with pytest.raises(NotFound):
        service.reply("SET-99", "hello", by="alice")


def test_a_stale_reply_is_a_conflict(service, ticket):
    seen = ticket.version
    service.note(ticket.key, "checking the logs", by="bob")
    with pytest.raises(Conflict):
        service.reply(ticket.key, "hello", by="alice", expected_version=seen)
    assert Notification.select().count() == 0


def test_compose_shows_recipient_subject_and_reply_to(service, ticket):
    shown = service.compose(ticket.key)
    assert (shown.to, shown.subject, shown.reply_to, shown.version) == (
        "rita@customer.example", "[SET-1] Re: Hub will not start", "support@example.org", ticket.version)


# -- 2. notes ---------------------------------------------------------------------


def test_a_note_is_never_mailed_and_is_internal_everywhere(service, ticket):
    outbox_before = list(Notification.select().tuples())
    result = service.note(ticket.key, "Rita's hub is on cluster B.\nSee the Slack thread.", by="bob")
    assert list(Notification.select().tuples()) == outbox_before == []
    assert result.history.kind == "note"
    assert json.loads(result.history.detail) == {"text": "Rita's hub is on cluster B.\nSee the Slack thread."}
    fresh = Ticket.get_by_id(ticket.id)
    data = ticket_dict(fresh, support_status=service.status_of(fresh), history=service.history(fresh))
    assert [(h["kind"], h["internal"]) for h in data["history"]] == [("create", False), ("note", True)]
    (line,) = [e for e in service.conversation(fresh) if e.kind == "note"]
    assert line.internal and line.audience == "internal" and "cluster B" in line.text
    # A note is not a message to the requester: the first response is still owed.
    assert fresh.first_response is None


# -- 3. edit ----------------------------------------------------------------------


def test_an_edit_is_one_write_with_before_and_after(service, ticket):
    result = service.edit_ticket(ticket.key, {"title": "  JupyterHub will not start ", "kind": "Incident",
                                              "requester_email": "rita.reyes@customer.example",
                                              "service": "LMS", "team": "infra"}, by="bob")
    fresh = Ticket.get_by_id(ticket.id)
    assert (fresh.title, fresh.kind, fresh.requester_email, fresh.service, fresh.team) == (
        "JupyterHub will not start", "incident", "rita.reyes@customer.example", "LMS", "infra")
    assert fresh.version == ticket.version + 1
    (entry,) = entries(ticket, "edit")
    assert json.loads(entry.detail) == {"changes": {
        "title": ["Hub will not start", "JupyterHub will not start"], "requester_email":
        ["rita@customer.example", "rita.reyes@customer.example"], "kind": ["bug", "incident"],
        "service": [None, "LMS"], "team": [None, "infra"]}}
    assert entry.by == "bob" and result.changes["kind"] == ("bug", "incident")
    assert fresh.sort_key != ticket.sort_key  # an incident comes before a bug in the priority-of-work order


def test_an_edit_that_changes_nothing_writes_nothing(service, ticket):
    result = service.edit_ticket(ticket.key, {"title": "Hub will not start"}, by="bob")
    assert result.history is None and Ticket.get_by_id(ticket.id).version == ticket.version


def test_a_stale_edit_is_a_conflict_and_changes_nothing(service, ticket):
    seen = ticket.version
    service.move(ticket.key, "on_hold", hold_reason="external", by="bob")
    with pytest.raises(Conflict, match="SET-1 was moved to On Hold by bob"):
        service.edit_ticket(ticket.key, {"title": "Mine"}, by="alice", expected_version=seen)
    assert Ticket.get_by_id(ticket.id).title == "Hub will not start" and entries(ticket, "edit") == []


@pytest.mark.parametrize("changes, message", [
    ({"title": "  "}, "a ticket needs a title"),
    ({"requester_email": "rita@x\r\nBcc: evil@x"}, "not an e-mail address"),
    ({"requester_email": "not an address"}, "not an e-mail address"),
    ({"kind": "story"}, "unknown kind 'story'"),
    ({"bug_class": "urgent"}, "unknown bug class 'urgent'"),
    ({"service": "Payroll"}, "unknown service 'Payroll'"),
    ({"description": "a\x00b"}, "NUL"),
    ({"priority": "P1"}, "cannot edit 'priority'"),
    ({"kind": "feature", "bug_class": "hotfix"}, "a bug class only applies to a bug"),
])
def test_a_bad_edit_is_refused_and_nothing_changes(service, ticket, changes, message):
    with pytest.raises(Refused, match=message):
        service.edit_ticket(ticket.key, changes, by="bob")
    assert Ticket.get_by_id(ticket.id).version == ticket.version and entries(ticket, "edit") == []


def test_turning_a_bug_into_a_feature_drops_its_bug_class(service, ticket):
    service.edit_ticket(ticket.key, {"bug_class": "customer"}, by="bob")
    service.edit_ticket(ticket.key, {"kind": "feature"}, by="bob")
    assert (Ticket.get_by_id(ticket.id).kind, Ticket.get_by_id(ticket.id).bug_class) == ("feature", None)


# -- 4. links ---------------------------------------------------------------------


def test_links_are_kept_labelled_and_shown(service, ticket):
    service.link(ticket.key, "https://github.com/2i2c-org/infrastructure/issues/4711", by="bob")
    service.link(ticket.key, "https://example.freshdesk.com/a/tickets/981", by="bob")
    service.link(ticket.key, "https://github.com/2i2c-org/infrastructure/pull/4712", label="the fix", by="bob")
    fresh = Ticket.get_by_id(ticket.id)
    assert [(link["label"], link["url"]) for link in service.links(fresh)] == [
        ("GitHub issue 2i2c-org/infrastructure#4711", "https://github.com/2i2c-org/infrastructure/issues/4711"),
        ("FreshDesk ticket 981", "https://example.freshdesk.com/a/tickets/981"),
        ("the fix", "https://github.com/2i2c-org/infrastructure/pull/4712")]
    data = ticket_dict(fresh, support_status="Open", history=service.history(fresh))
    assert [link["label"] for link in data["links"]] == ["GitHub issue 2i2c-org/infrastructure#4711",
                                                        "FreshDesk ticket 981", "the fix"]
    assert Notification.select().count() == 0


@pytest.mark.parametrize("url, message", [
    ("javascript:alert(1)", "only http, https, mailto"),
    ("file:///etc/passwd", "only http, https, mailto"),
    ("https://", "names no host"),
    ("https://example.org/a b", "space or a control character"),
    ("https://example.org/\x1b]8;;", "control character"),
    ("mailto:not an address", "space"),
    ("", "a link needs a URL"),
])
def test_a_bad_link_is_refused(service, ticket, url, message):
    with pytest.raises(Refused, match=message):
        service.link(ticket.key, url, by="bob")
    assert entries(ticket, "link") == []


def test_the_same_link_twice_is_refused(service, ticket):
    service.link(ticket.key, "mailto:ops@customer.example", by="bob")
    with pytest.raises(Refused, match="already links mailto:ops@customer.example"):
        service.link(ticket.key, "mailto:ops@customer.example", label="again", by="bob")


# -- the conversation, in order ------------------------------------------------------


def test_the_conversation_reads_in_order_with_its_audiences(service, ticket, clock):
    for step in (lambda: service.reply(ticket.key, "We have it.", by="alice"),
                 lambda: service.note(ticket.key, "cluster B", by="alice"),
                 lambda: service.move(ticket.key, "on_hold", hold_reason="requester", by="alice"),
                 lambda: service.receive_reply(Reply(sender="rita@customer.example", sender_name="Rita",
                                                     subject="Re: [SET-1]", message_id="<m1@c>",
                                                     references=(Notification.get().message_id,),
                                                     text="It works again")),
                 lambda: service.link(ticket.key, "https://github.com/o/r/issues/1", by="alice"),
                 lambda: service.edit_ticket(ticket.key, {"title": "Hub did not start"}, by="alice")):
        clock.advance(minutes=1)
        step()
    timeline = service.conversation(Ticket.get_by_id(ticket.id))
    assert [(e.kind, e.audience) for e in timeline] == [
        ("create", "team"), ("reply", "requester"), ("note", "internal"), ("move", "team"),
        ("move", "team"), ("comment", "requester"), ("link", "team"), ("edit", "team")]
    assert timeline[5].text == "It works again" and timeline[5].headline == "mail from rita@customer.example: Re: [SET-1]"
    assert timeline[6].url == "https://github.com/o/r/issues/1"
    assert timeline[7].headline == "edited title: 'Hub will not start' → 'Hub did not start'"
