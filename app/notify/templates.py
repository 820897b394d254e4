"""The words of every notification, one template per kind, overridable in `config.yaml`.

A template is `str.format` text with named placeholders only. The set of
placeholders is fixed per template and checked when the configuration loads,
so a typo such as `{titel}` stops the board with the file, line and key
instead of sending a broken mail at three in the morning. Attribute access
and indexing (`{key.__class__}`) are refused: templates are written by
people who should not be able to reach into Python objects.

A body line whose placeholders all render empty is left out, so
`Reason: {reason}` disappears when a move has no reason.
"""

from __future__ import annotations

import re
import string
from typing import Mapping

import msgspec

from app.config.yamlnodes import LineDict, Section
from widgets.safe_text import shown


class Template(msgspec.Struct, frozen=True):
    subject: str
    body: str


FOOTER = "footer"
"""Not a message of its own: the text every body ends with, as `{footer}`."""

DEFAULT_FOOTER = ("--\n"
                  "Reply to this e-mail to add information to {key}; "
                  "please keep [{key}] in the subject.\n"
                  "Your request's page: {link}")
"""`{link}` is the requester's page (serve.public_url): given only in mails to the requester, so the
line drops out of the team's mails and wherever no public address is configured."""

DEFAULT_TEMPLATES: Mapping[str, Template] = {
    "status": Template(
        subject="[{key}] Your request is now {after}",
        body=("Hello {requester},\n"
              "\n"
              "Your request {key} \"{title}\" changed from {before} to {after}.\n"
              "Reason: {reason}\n"
              "\n"
              "{footer}\n")),
    "page": Template(
        subject="[{key}] PAGE {priority}: {title}",
        body=("{name}, you are paged for {key} ({priority}) as {step}.\n"
              "\n"
              "{title}\n"
              "Unacknowledged since {since}.\n"
              "\n"
              "Acknowledge with: triageboard ack {key} --by {handle}\n"
              "\n"
              "{footer}\n")),
    "reminder": Template(
        subject="[{key}] Reminder: {target} due {due}",
        body=("{name}, {key} \"{title}\" needs {target} by {due}.\n"
              "The requester last heard from us: {last_update}.\n"
              "\n"
              "{footer}\n")),
    "reply": Template(
        subject="[{key}] {sender_name} replied: {title}",
        body=("{name}, the requester replied to {key} \"{title}\".\n"
              "The request is now {status}.\n"
              "\n"
              "From: {sender}\n"
              "Subject: {reply_subject}\n"
              "\n"
              "{text}\n"
              "\n"
              "{footer}\n")),
    "acknowledgement": Template(
        subject="[{key}] We received your request: {title}",
        body=("Hello {requester},\n"
              "\n"
              "Thank you for writing. Your request is {key} \"{title}\";\n"
              "we will answer you as soon as we have looked at it.\n"
              "\n"
              "{footer}\n")),
    "solved": Template(
        subject="[{key}] Solved: {title}",
        body=("{name}, the requester confirmed that {key} \"{title}\" is solved.\n"
              "\n"
              "{footer}\n")),
    "reopened": Template(
        subject="[{key}] Not fixed: {title}",
        body=("{name}, the requester says {key} \"{title}\" is not fixed;\n"
              "it is back in {column}.\n"
              "\n"
              "{footer}\n")),
    "page_link": Template(
        subject="[{key}] Your link to {title}",
        body=("Hello {requester},\n"
              "\n"
              "Here is a fresh link to your request {key} \"{title}\".\n"
              "\n"
              "{footer}\n")),
    "response": Template(
        subject="[{key}] Re: {title}",
        body=("{text}\n"
              "\n"
              "{footer}\n")),
}

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "status": frozenset({"key", "title", "before", "after", "reason", "requester", "footer"}),
    "page": frozenset({"key", "title", "priority", "step", "name", "handle", "since", "footer"}),
    "reminder": frozenset({"key", "title", "name", "target", "due", "last_update", "footer"}),
    "reply": frozenset({"key", "title", "name", "sender", "sender_name", "reply_subject", "text", "status",
                         "footer"}),
    "solved": frozenset({"key", "title", "name", "requester", "footer"}),
    "response": frozenset({"key", "title", "requester", "text", "by", "status", "footer"}),
    "acknowledgement": frozenset({"key", "title", "requester", "footer"}),
    "reopened": frozenset({"key", "title", "name", "requester", "column", "footer"}),
    "page_link": frozenset({"key", "title", "requester", "footer"}),
    FOOTER: frozenset({"key", "title", "link"}),
}
"""What each template may use; anything else in a configured template is a config error."""

KINDS = tuple(DEFAULT_TEMPLATES)

MAX_WIDTH = 1000
"""The largest width or precision a placeholder may ask for (`{title:>40}`): `{title:>300000000}`
would build a 300 MB mail on every move."""


class Templates(msgspec.Struct, frozen=True):
    """The templates in force: the defaults with the configured ones laid over them."""

    messages: Mapping[str, Template]
    footer: str = DEFAULT_FOOTER

    def render(self, kind: str, **values: str) -> tuple[str, str]:
        """(subject, body) for `kind`; every placeholder of the template must be given."""
        template = self.messages[kind]
        footer = _render_text(self.footer, {"key": values.get("key", ""), "title": values.get("title", ""),
                                            "link": values.pop("link", "")})
        values = {**values, "footer": footer}
        # A header carries no control character (a title's ESC would reach the agent's mail reader's
        # terminal): shown escaped, as on the board. The body keeps the text as written.
        subject = shown(" ".join(template.subject.format_map(values).split()))
        return subject, _render_text(template.body, values)


DEFAULTS = Templates(messages=dict(DEFAULT_TEMPLATES))


def _render_text(text: str, values: Mapping[str, str]) -> str:
    lines = []
    for line in text.splitlines():
        fields = _fields(line)
        if fields and all(not str(values.get(name, "")).strip() for name in fields):
            continue
        lines.append(line.format_map(values))
    return "\n".join(lines).rstrip("\n") + "\n"


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def check_template(text: str, allowed: frozenset[str]) -> None:
    """Raise ValueError naming the first bad placeholder in `text`."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc}); write a literal brace as {{{{ or }}}}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            shown = "{" + name + "}" if name else "{}"
            raise ValueError(f"unknown placeholder {shown} (use: {', '.join(sorted(allowed))})")
        if spec and "{" in spec:
            raise ValueError(f"placeholder {{{name}}} has a nested field in its format")
        if conversion not in (None, "s", "r", "a"):
            raise ValueError(f"placeholder {{{name}!{conversion}}}: unknown conversion (use !s, !r or !a, or none)")
        if any(len(digits) > 6 or int(digits) > MAX_WIDTH for digits in re.findall(r"\d+", spec or "")):
            raise ValueError(f"placeholder {{{name}:{spec}}}: a width or precision is at most {MAX_WIDTH}")
    # Every value is text when a message is made: render once with sample text, so a format that
    # cannot apply to text (`{title:d}`) is refused here, not in every move that mails the requester.
    try:
        text.format_map(dict.fromkeys(allowed, "sample"))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"the template cannot be rendered: {exc}") from None


def parse_templates(section: Section | None) -> Templates:
    """The `notify.templates` mapping: `kind: {subject, body}` and `footer: text`."""
    if section is None:
        return DEFAULTS
    section.only(*KINDS, FOOTER)
    messages = dict(DEFAULT_TEMPLATES)
    footer = DEFAULT_FOOTER
    for name in section.keys():
        allowed = PLACEHOLDERS[name]
        if name == FOOTER:
            footer = section.require(name, str, convert=lambda text: _checked(text, allowed))
            continue
        if not isinstance(section.data.get(name), LineDict):
            raise section.fail(name, "expected a mapping {subject, body}")
        sub = section.section(name)
        sub.only("subject", "body")
        default = DEFAULT_TEMPLATES[name]
        subject = sub.get("subject", str, default.subject, convert=lambda text: _checked(text, allowed))
        if "\n" in subject.strip():
            raise sub.fail("subject", "a subject is one line")
        body = sub.get("body", str, default.body, convert=lambda text: _checked(text, allowed))
        messages[name] = Template(subject=subject, body=body)
    return Templates(messages=messages, footer=footer)


def _checked(text: str, allowed: frozenset[str]) -> str:
    check_template(text, allowed)
    return text
