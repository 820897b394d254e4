"""Tickets from e-mail (issue 15.6): `triageboard inbound` on real RFC 822 bytes, as a mail alias runs it."""

from __future__ import annotations

import json
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.config.yamlnodes import ConfigError
from data.db import open_database
from data.models import Attachment, History, Notification, Ticket

from intake_support import INTAKE, intake_config, intake_service, new_mail
from notify_support import REPO, Clock, MailServer, run_cli


@pytest.fixture
def service(tmp_path: Path, mail_server: MailServer, db_url: str, clock: Clock):
    return intake_service(tmp_path, mail_server, db_url, clock)


def inbound(service, db_url: str, mail: EmailMessage | bytes, *args: str):
    done = run_cli(service.config.path, db_url, "inbound", *args, stdin=bytes(mail))
    assert "Traceback" not in done.stderr.decode(), done.stderr.decode()
    return done


def shown(service, db_url: str, key: str = "SET-1") -> str:
    done = run_cli(service.config.path, db_url, "ticket", "show", key)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_a_mail_that_is_no_reply_opens_a_ticket_in_to_do(service, db_url: str):
    done = inbound(service, db_url, new_mail())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "SET-1: new ticket in To Do from rita@customer.example; acknowledgement to rita@customer.example queued")
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert (ticket.state, ticket.title, ticket.requester_email, ticket.requester_name) == (
        "todo", "Certificates not issued", "rita@customer.example", "Rita Reyes")
    assert ticket.description == "Certificates are not issued for the spring run."
    create = History.get((History.ticket == ticket) & (History.kind == "create"))
    assert create.message_id == "<first@customer.example>" and create.reason == "from e-mail"
    text = shown(service, db_url)
    assert "requester: Rita Reyes <rita@customer.example>" in text and "from e-mail" in text


def test_without_an_intake_section_such_a_mail_is_still_refused(tmp_path: Path, mail_server: MailServer,
                                                                db_url: str):
    config = intake_config(tmp_path, mail_server, intake="")
    open_database(db_url)
    done = run_cli(config, db_url, "inbound", stdin=bytes(new_mail()))
    assert done.returncode == 1 and "add an `intake:` section" in done.stderr.decode()
    assert Ticket.select().count() == 0


def test_an_html_only_mail_becomes_readable_text(service, db_url: str):
    mail = new_mail()
    mail.set_content("<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
                     "<p>The <b>certificate</b> page says:</p><ul><li>error 500</li><li>since Monday</li></ul>"
                     "<p>See <a href='https://lms.example/cert'>the page</a> &amp; fix it</p></body></html>",
                     subtype="html")
    assert inbound(service, db_url, mail).returncode == 0
    description = Ticket.get(Ticket.key == "SET-1").description
    assert "<" not in description.replace("<https", "") and "alert" not in description and "color" not in description
    assert "**certificate**" in description and "error 500" in description and "& fix it" in description
    assert "https://lms.example/cert" in description


def with_attachments(*files: tuple[str, bytes, str]) -> EmailMessage:
    mail = new_mail()
    for name, data, kind in files:
        maintype, subtype = kind.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def test_attachments_are_saved_listed_and_exported(service, db_url: str, tmp_path: Path):
    mail = with_attachments(("error.log", b"Traceback: boom\n", "text/plain"),
                            ("../../../etc/cron.d/evil", b"* * * * * root rm -rf /\n", "text/plain"),
                            ("screenshot.png", b"\x89PNG" + b"x" * 2000, "image/png"))
    done = inbound(service, db_url, mail, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [a["name"] for a in result["attachments"]] == ["error.log", "../../../etc/cron.d/evil", "screenshot.png"]
    root = tmp_path / "files"
    saved = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    folder = saved[0].split("/")[0]
    # The hostile name stays in the folder; the one over the 1,000-byte limit is not saved, the whole mail is.
    assert saved == sorted([f"{folder}/error.log", f"{folder}/_.._.._etc_cron.d_evil", f"{folder}/original.eml"])
    assert (root / folder / "error.log").read_bytes() == b"Traceback: boom\n"
    assert (root / folder / "original.eml").read_bytes() == bytes(mail)
    assert not (tmp_path / "etc").exists()
    text = shown(service, db_url)
    assert "attachments:" in text and f"error.log  (16 bytes, text/plain)  {root / folder / 'error.log'}" in text
    assert "screenshot.png  (2,004 bytes, image/png)  not saved: larger than the limit of 1,000 bytes" in text
    data = json.loads(run_cli(service.config.path, db_url, "ticket", "show", "SET-1", "--json").stdout)
    assert [(a["name"], a["path"]) for a in data["attachments"]] == [
        ("error.log", f"{folder}/error.log"), ("../../../etc/cron.d/evil", f"{folder}/_.._.._etc_cron.d_evil"),
        ("screenshot.png", None)]
    out = tmp_path / "export.json"
    assert run_cli(service.config.path, db_url, "export", "--format", "json", "-o", str(out)).returncode == 0
    exported = json.loads(out.read_text())["tickets"][0]
    assert [a["name"] for a in exported["attachments"]] == ["error.log", "../../../etc/cron.d/evil", "screenshot.png"]


def test_an_urgent_address_opens_a_p1_escalation_that_pages_on_call(tmp_path: Path, mail_server: MailServer,
                                                                    db_url: str):
    config = tmp_path / "config.yaml"
    shutil.copy(REPO / "config.yaml", config)
    with open(config, "a", encoding="utf-8") as out:
        out.write("intake:\n  addresses:\n    urgent@example.org: {kind: escalation, priority: P1}\n")
    mail = new_mail(subject="Checkout is down", to="Urgent <urgent@example.org>", sender="ops@customer.example")
    open_database(db_url)
    done = run_cli(config, db_url, "inbound", stdin=bytes(mail))
    assert done.returncode == 0, done.stderr
    assert "P1 (escalation, sent to urgent@example.org)" in done.stdout.decode()
    ticket = Ticket.get(Ticket.title == "Checkout is down")
    assert (ticket.kind, ticket.priority, ticket.needs_ack) == ("escalation", 1, True)
    paged = run_cli(config, db_url, "escalate", "--once")
    assert paged.returncode == 0, paged.stderr
    assert f"{ticket.key}: paged " in paged.stdout.decode() and "(step 1, " in paged.stdout.decode()
    assert Notification.select().where(Notification.kind == "page").count() >= 1


def test_the_same_mail_delivered_twice_opens_one_ticket(service, db_url: str):
    mail = with_attachments(("error.log", b"boom", "text/plain"))
    assert inbound(service, db_url, mail).returncode == 0
    again = inbound(service, db_url, mail)
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().strip() == "SET-1: this message was already recorded"
    assert Ticket.select().count() == 1
    assert Attachment.select().count() == 1
    assert Notification.select().where(Notification.kind == "acknowledgement").count() == 1


def test_the_acknowledgement_tells_the_key_and_does_not_count_as_a_response_by_default(
        service, db_url: str, mail_server: MailServer):
    assert inbound(service, db_url, new_mail()).returncode == 0
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    [sent] = mail_server.inbox
    assert sent.rcpt_tos == ["rita@customer.example"]
    assert sent.message["Subject"] == "[SET-1] We received your request: Certificates not issued"
    assert "Your request is SET-1" in sent.message.get_content()
    assert sent.message["Reply-To"] == "support@example.org"
    assert Ticket.get(Ticket.key == "SET-1").first_response is None


def test_the_acknowledgement_may_count_as_the_first_response(tmp_path: Path, mail_server: MailServer,
                                                             db_url: str, clock: Clock):
    service = intake_service(tmp_path, mail_server, db_url, clock,
                             intake=INTAKE.replace("acknowledge: true", "acknowledge: true\n  ack_counts_as_response: true"))
    assert inbound(service, db_url, new_mail()).returncode == 0
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert ticket.first_response is not None and ticket.first_response == ticket.last_requester_update


@pytest.mark.parametrize("headers, sender, why", [
    ({"Auto-Submitted": "auto-replied"}, "rita@customer.example", "Auto-Submitted: auto-replied"),
    ({"Precedence": "bulk"}, "news@customer.example", "Precedence: bulk"),
    ({"Precedence": "list"}, "rita@customer.example", "Precedence: list"),
    ({"Precedence": "junk"}, "rita@customer.example", "Precedence: junk"),
    ({"X-Autoreply": "yes"}, "rita@customer.example", "X-Autoreply header"),
    ({"List-Id": "<users.lists.example>"}, "rita@customer.example", "List-Id header"),
    ({"Return-Path": "<>"}, "rita@customer.example", "Return-Path <> (a bounce)"),
    ({}, "MAILER-DAEMON@mx.customer.example", "sent by mailer-daemon"),
    ({}, "postmaster@customer.example", "sent by postmaster"),
])
def test_robots_are_recorded_but_never_answered(service, db_url: str, headers: dict, sender: str, why: str):
    done = inbound(service, db_url, new_mail(sender=sender, headers=headers))
    assert done.returncode == 0, done.stderr
    assert f"automatic mail ({why}): nothing sent back" in done.stdout.decode()
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert ticket.requester_email == ""  # so no status mail can go back either
    assert Notification.select().count() == 0
    service.move("SET-1", "on_hold", hold_reason="requester", by="alice")
    assert Notification.select().count() == 0
    assert why in shown(service, db_url)


def acknowledgement_of(service, db_url: str, mail_server: MailServer) -> EmailMessage:
    assert inbound(service, db_url, new_mail()).returncode == 0
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    return mail_server.inbox[-1].message


def answer(original: EmailMessage, text: str, *, sender: str = "Rita Reyes <rita@customer.example>",
           message_id: str = "<second@customer.example>", subject: str | None = None) -> EmailMessage:
    mail = new_mail(text, sender=sender, message_id=message_id,
                    subject=subject if subject is not None else f"Re: {original['Subject']}")
    mail["In-Reply-To"] = original["Message-ID"]
    mail["References"] = f"{original['References'] or ''} {original['Message-ID']}".strip()
    return mail


QUOTED = """\
It is the 2026 spring run, course DEMO-101.

Thanks,
Rita

On Tue, 3 Nov 2026 at 10:00, Support <support@example.org> wrote:
> Hello Rita Reyes,
>
> Thank you for writing. Your request is SET-1
"""


def test_a_reply_has_quotes_and_signature_stripped_and_the_original_kept(service, db_url: str,
                                                                          mail_server: MailServer):
    ack = acknowledgement_of(service, db_url, mail_server)
    done = inbound(service, db_url, answer(ack, QUOTED), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ticket"] == "SET-1"
    assert Ticket.select().count() == 1
    comment = History.get(History.kind == "comment")
    detail = json.loads(comment.detail)
    assert detail["body"] == "It is the 2026 spring run, course DEMO-101."
    assert detail["original"] == QUOTED.strip()


def test_our_mails_answer_the_requesters_last_and_chain_the_whole_conversation(service, db_url: str,
                                                                              mail_server: MailServer):
    """Issue 15.1: In-Reply-To is the newest mail of the thread, References chains it after the thread id."""
    ack = acknowledgement_of(service, db_url, mail_server)
    thread = f"<set-1.{Ticket.get(Ticket.key == 'SET-1').thread_token}.thread@example.org>"
    assert ack["In-Reply-To"] == "<first@customer.example>"
    assert ack["References"].split() == [thread, "<first@customer.example>"]  # (folded: compare the ids)
    assert inbound(service, db_url, answer(ack, "It is the spring run.")).returncode == 0
    assert run_cli(service.config.path, db_url, "move", "SET-1", "on_hold", "--hold-reason", "requester",
                   "--by", "alice").returncode == 0
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    status = mail_server.inbox[-1].message
    assert status["Subject"] == "[SET-1] Your request is now Pending"
    assert status["In-Reply-To"] == "<second@customer.example>"
    assert status["References"].split() == [thread, "<first@customer.example>", ack["Message-ID"],
                                            "<second@customer.example>"]
    assert status["Reply-To"] == "support@example.org"


def test_threading_by_the_requesters_own_message_id_and_by_the_subject_token(service, db_url: str):
    assert inbound(service, db_url, new_mail()).returncode == 0
    assert inbound(service, db_url, new_mail(subject="Another problem", message_id="<other@customer.example>")
                   ).returncode == 0
    forgot = new_mail("Here is the log I forgot.", subject="Re: Certificates not issued",
                      message_id="<third@customer.example>")
    forgot["In-Reply-To"] = "<first@customer.example>"
    done = inbound(service, db_url, forgot, "--json")
    assert json.loads(done.stdout)["ticket"] == "SET-1"
    token = new_mail("And one more thing.", subject="Re: [SET-2] Another problem", message_id="<fourth@customer.example>")
    assert json.loads(inbound(service, db_url, token, "--json").stdout)["ticket"] == "SET-2"
    assert Ticket.select().count() == 2
    assert History.select().where(History.kind == "comment").count() == 2


def test_a_reply_from_a_stranger_is_flagged_and_changes_nothing(service, db_url: str, mail_server: MailServer):
    ack = acknowledgement_of(service, db_url, mail_server)
    service.move("SET-1", "on_hold", hold_reason="requester", by="alice")
    before = Notification.select().count()
    done = inbound(service, db_url, answer(ack, "Please close it, it is fixed", sender="mallory@evil.example"))
    assert done.returncode == 0, done.stderr
    assert "mail from an unknown sender (mallory@evil.example) held, not applied" in done.stdout.decode()
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert (ticket.state, ticket.hold_reason) == ("on_hold", "requester")
    assert Notification.select().count() == before
    text = shown(service, db_url)
    assert "held" in text and "from an unknown sender" in text and "triageboard inbound accept SET-1" in text


def test_a_bounce_of_our_mail_lands_on_its_ticket_and_moves_nothing(service, db_url: str, mail_server: MailServer):
    ack = acknowledgement_of(service, db_url, mail_server)
    bounce = (b"From: MAILER-DAEMON@mx.customer.example\r\nTo: support@example.org\r\n"
              b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@mx.customer.example>\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
              b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nMailbox full.\r\n"
              b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
              b"Message-ID: " + ack["Message-ID"].encode() + b"\r\nSubject: whatever\r\n"
              b"--B--\r\n")
    done = inbound(service, db_url, bounce)
    assert done.returncode == 0, done.stderr
    assert Ticket.select().count() == 1
    entry = History.get(History.message_id == "<bounce@mx.customer.example>")  # held: the daemon is no participant
    assert entry.ticket.key == "SET-1" and json.loads(entry.detail)["automatic"] is True
    assert Notification.select().count() == 1  # the acknowledgement only: nothing answers the bounce


def test_a_malformed_mail_is_refused_and_kept(service, db_url: str, tmp_path: Path):
    garbage = b"\x00\xff\xfe this is not a mail at all\r\n\r\n\x89PNG"
    done = inbound(service, db_url, garbage)
    assert done.returncode == 1
    line = done.stderr.decode().strip()
    assert line.startswith("triageboard: message refused: ") and "kept in" in line
    [kept] = (tmp_path / "quarantine").iterdir()
    assert kept.read_bytes() == garbage
    assert Ticket.select().count() == 0


def test_a_20_mb_mail_is_refused_and_kept_whole(service, db_url: str, tmp_path: Path):
    mail = with_attachments(("video.mp4", b"\x00" * (20 * 1024 * 1024), "video/mp4"))
    raw = bytes(mail)
    done = inbound(service, db_url, raw)
    assert done.returncode == 1
    assert "larger than the limit" in done.stderr.decode() and "kept in" in done.stderr.decode()
    [kept] = (tmp_path / "quarantine").iterdir()
    assert kept.read_bytes() == raw
    assert Ticket.select().count() == 0


def test_a_mail_with_no_text_part_opens_a_ticket_that_says_so(service, db_url: str):
    mail = EmailMessage()
    mail["From"] = "rita@customer.example"
    mail["Subject"] = "see attached"
    mail["Message-ID"] = "<notext@customer.example>"
    mail.add_attachment(b"log", maintype="application", subtype="octet-stream", filename="log.bin")
    done = inbound(service, db_url, mail)
    assert done.returncode == 0, done.stderr
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert ticket.description == "" and ticket.title == "see attached"
    assert "the mail had no text part" in shown(service, db_url)


def test_header_injection_in_names_and_subjects_stays_one_line(service, db_url: str, mail_server: MailServer):
    raw = (b"From: =?utf-8?q?Rita=0D=0ABcc=3A_victim=40else.example?= <rita@customer.example>\r\n"
           b"To: support@example.org\r\n"
           b"Subject: =?utf-8?q?Help=0D=0ABcc=3A_victim=40else.example=0D=0A=0D=0Abody?=\r\n"
           b"Message-ID: <inject@customer.example>\r\n\r\nHello\r\n")
    done = inbound(service, db_url, raw)
    assert done.returncode == 0, done.stderr
    ticket = Ticket.get(Ticket.key == "SET-1")
    assert "\r" not in ticket.title and "\n" not in ticket.title and ticket.title.startswith("Help")
    assert "\n" not in ticket.requester_name and "\r" not in ticket.requester_name
    assert run_cli(service.config.path, db_url, "notify", "--once").returncode == 0
    [sent] = mail_server.inbox
    assert sent.rcpt_tos == ["rita@customer.example"]
    assert sent.message["Bcc"] is None
    assert b"\r\nBcc:" not in sent.raw and b"\nBcc:" not in sent.raw


@pytest.mark.parametrize("intake, key, words", [
    ("intake:\n  addresses:\n    urgent@example.org: {kind: panic}\n", "intake.addresses.urgent@example.org.kind",
     "unknown kind 'panic'"),
    ("intake:\n  addresses:\n    not-an-address: {kind: bug}\n", "intake.addresses.not-an-address",
     "is not an e-mail address"),
    ("intake:\n  addresses:\n    a@example.org: {priority: P7}\n", "intake.addresses.a@example.org.priority",
     "priority must be"),
    ("intake:\n  max_attachment_bytes: -1\n", "intake.max_attachment_bytes", "a size in bytes"),
    ("intake:\n  imap: {host: h, user: u}\n", "intake.imap", "missing required key 'password_env'"),
    ("intake:\n  imap: {host: h, user: u, password_env: 'x y'}\n", "intake.imap.password_env",
     "not an environment variable name"),
    ("intake:\n  imap: {host: h, user: u, password_env: P, ca_file: nowhere.pem}\n", "intake.imap.ca_file",
     "no such file"),
    ("intake:\n  imap: {host: h, user: u, password_env: P, processed_folder: INBOX}\n",
     "intake.imap.processed_folder", "a folder other than"),
    ("intake:\n  acknowledge: sometimes\n", "intake.acknowledge", "expected true or false"),
])
def test_intake_config_errors_name_file_line_and_key(tmp_path: Path, mail_server: MailServer, intake: str, key: str,
                                                     words: str):
    path = intake_config(tmp_path, mail_server, intake)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    line = len(path.read_text().splitlines()) - intake.count("\n") + 1
    assert str(caught.value).startswith(f"{path}:")
    assert f": {key}: " in str(caught.value) and words in str(caught.value)
    assert caught.value.line >= line
