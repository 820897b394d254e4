"""What people are told when a ticket changes, drafted for the outbox.

A notification is owed the moment its cause commits, so each kind is drafted
here as plain values by a pure function and written by the service in the
same transaction as the change (seed 000: "the requester is notified by
email"; "requester replies - the developer is notified"). One function per
kind; the words come from `app.notify.templates`, overridable in `config.yaml`.

Callers pass `templates` and `domain` from `config.notify` (the service does
it through `Service.mail_options`); the defaults serve tests and scripts.
"""

from __future__ import annotations

import uuid

import msgspec

from app.notify.templates import DEFAULTS, Templates

DEFAULT_DOMAIN = "triageboard.local"

WEBHOOK = "webhook"
"""The recipient of a notification that is posted to the configured webhook instead of mailed."""


class Draft(msgspec.Struct, frozen=True):
    kind: str
    recipient: str
    subject: str
    body: str
    message_id: str


def new_message_id(key: str, domain: str = DEFAULT_DOMAIN) -> str:
    """A stable, unique Message-ID: stored once, reused by every retry."""
    return f"<{key.lower()}.{uuid.uuid4().hex}@{domain}>"


def thread_id(key: str, domain: str = DEFAULT_DOMAIN, token: str = "") -> str:
    """The ticket's thread: every mail about it is In-Reply-To this id, so replies thread and match.

    `token` (the ticket's random `thread_token`) makes it unguessable; without
    one it is the old `<key.thread@domain>` form, which mails already sent carry.
    """
    return f"<{key.lower()}.{token}.thread@{domain}>" if token else f"<{key.lower()}.thread@{domain}>"


def _draft(kind: str, key: str, recipient: str, templates: Templates | None, domain: str,
           **values: str) -> Draft:
    subject, body = (templates or DEFAULTS).render(kind, key=key, **values)
    return Draft(kind=kind, recipient=recipient, subject=subject, body=body,
                 message_id=new_message_id(key, domain))


def status_change(*, key: str, title: str, requester_email: str, before: str, after: str,
                  reason: str = "", requester_name: str = "", templates: Templates | None = None,
                  domain: str = DEFAULT_DOMAIN, link: str = "") -> Draft | None:
    """The requester's mail for a support-status change; None when there is no one to tell or nothing changed.

    `link` (here and in every mail to the requester) is their page's address, in the footer.
    """
    if before == after or not requester_email:
        return None
    return _draft("status", key, requester_email, templates, domain, title=title, before=before, after=after,
                  reason=reason, requester=requester_name or "there", link=link)


def escalation_page(*, key: str, title: str, recipient: str, name: str, handle: str, step: str,
                    priority: str = "P1", since: str = "", templates: Templates | None = None,
                    domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """A page to the on-call person at one escalation step (`step`: the rotation's name)."""
    if not recipient:
        return None
    return _draft("page", key, recipient, templates, domain, title=title, name=name or handle, handle=handle,
                  step=step, priority=priority, since=since)


def response_reminder(*, key: str, title: str, recipient: str, name: str, target: str, due: str,
                      last_update: str = "never", templates: Templates | None = None,
                      domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """A reminder to the assignee that a response target (`target`, e.g. "a first response") is near."""
    if not recipient:
        return None
    return _draft("reminder", key, recipient, templates, domain, title=title, name=name, target=target, due=due,
                  last_update=last_update)


def reply_received(*, key: str, title: str, recipient: str, name: str, sender: str, subject: str, text: str,
                   status: str, sender_name: str = "", templates: Templates | None = None,
                   domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """Tells the assignee the requester replied; `status` is the support status after the reply.

    `sender` is the bare address, `sender_name` the display name from the reply's From.
    """
    if not recipient:
        return None
    return _draft("reply", key, recipient, templates, domain, title=title, name=name,
                  sender=f"{sender_name} <{sender}>" if sender_name else sender, sender_name=sender_name or sender,
                  reply_subject=subject, text=text, status=status)


def solved(*, key: str, title: str, recipient: str, name: str, requester_name: str = "",
           templates: Templates | None = None, domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """Tells the assignee the requester confirmed the fix (Released -> Solved)."""
    if not recipient:
        return None
    return _draft("solved", key, recipient, templates, domain, title=title, name=name,
                  requester=requester_name or "the requester")


def response(*, key: str, title: str, requester_email: str, text: str, requester_name: str = "", by: str = "",
             status: str = "", templates: Templates | None = None, domain: str = DEFAULT_DOMAIN,
             link: str = "") -> Draft | None:
    """A team member's reply to the requester (`triageboard reply`, `R` on the board); `text` as they wrote it.

    The subject comes from the template (one line, control characters shown
    escaped), so a `\\r\\nBcc:` typed into a title or a reply stays text.
    """
    if not requester_email:
        return None
    return _draft("response", key, requester_email, templates, domain, title=title, text=text,
                  requester=requester_name or "there", by=by, status=status, link=link)


def acknowledgement(*, key: str, title: str, recipient: str, requester_name: str = "",
                    templates: Templates | None = None, domain: str = DEFAULT_DOMAIN, link: str = "") -> Draft | None:
    """Tells the requester whose mail opened a ticket its key (`intake.acknowledge`)."""
    if not recipient:
        return None
    return _draft("acknowledgement", key, recipient, templates, domain, title=title,
                  requester=requester_name or "there", link=link)


def reopened(*, key: str, title: str, recipient: str, name: str, column: str, requester_name: str = "",
             templates: Templates | None = None, domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """Tells the assignee the requester pressed "Not fixed" on their page (Released -> In Progress)."""
    if not recipient:
        return None
    return _draft("reopened", key, recipient, templates, domain, title=title, name=name, column=column,
                  requester=requester_name or "the requester")


def page_link(*, key: str, title: str, requester_email: str, link: str, requester_name: str = "",
              templates: Templates | None = None, domain: str = DEFAULT_DOMAIN) -> Draft | None:
    """A fresh link to the requester's page, asked for from an expired or altered one."""
    if not requester_email or not link:
        return None
    return _draft("page_link", key, requester_email, templates, domain, title=title,
                  requester=requester_name or "there", link=link)


def webhook_copy(draft: Draft, key: str, domain: str = DEFAULT_DOMAIN) -> Draft:
    """The same news for the chat webhook: its own Message-ID, so each channel is retried on its own."""
    return Draft(kind=draft.kind, recipient=WEBHOOK, subject=draft.subject, body=draft.body,
                 message_id=new_message_id(f"{key}.webhook", domain))


def wants_webhook(kind: str, priority: int | None) -> bool:
    """Pages and anything about a P1 also go to the chat webhook (when one is configured)."""
    return kind == "page" or priority == 1
