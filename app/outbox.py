"""What the requester is told when their ticket changes, written to the outbox.

A notification is owed the moment its cause commits, so it is drafted here
as plain values and written by the service in the same transaction as the
change (seed 000: "the requester is notified by email").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Draft:
    kind: str
    recipient: str
    subject: str
    body: str
    message_id: str


def new_message_id(key: str, domain: str = "triageboard.local") -> str:
    """A stable, unique Message-ID: stored once, reused by every retry."""
    return f"<{key.lower()}.{uuid.uuid4().hex}@{domain}>"


def status_change(*, key: str, title: str, requester_email: str, before: str, after: str,
                  reason: str = "") -> Draft | None:
    """The mail for a support-status change; None when there is no one to tell or nothing changed."""
    if before == after or not requester_email:
        return None
    lines = [f"Your request {key} \"{title}\" changed from {before} to {after}."]
    if reason:
        lines.append(f"Reason: {reason}")
    lines.append("")
    lines.append("Reply to this message to add information to your request.")
    return Draft(kind="status", recipient=requester_email, subject=f"[{key}] Your request is now {after}",
                 body="\n".join(lines), message_id=new_message_id(key))


def escalation_page(*, key: str, title: str, recipient: str, name: str, handle: str, step: str,
                    priority: str = "P1", since: str = "") -> Draft | None:
    """A page to the on-call person at one escalation step (`step`: the rotation's name)."""
    if not recipient:
        return None
    body = (f"{name or handle}, you are paged for {key} ({priority}) as {step}.\n\n{title}\n"
            f"Unacknowledged since {since}.\n\nAcknowledge with: triageboard ack {key} --by {handle}\n")
    return Draft(kind="page", recipient=recipient, subject=f"[{key}] PAGE {priority}: {title}",
                 body=body, message_id=new_message_id(key))
