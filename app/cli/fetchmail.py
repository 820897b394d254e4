"""`triageboard fetch-mail`: the support mailbox, by IMAP, into tickets (what `inbound` does for a pipe).

Each message is recorded as `inbound` would record it, then moved to
`intake.imap.processed_folder`. Without --once it waits in IDLE where the
server offers it (new mail is recorded within a second) and polls every
--interval seconds otherwise, through the rounds loop that outlives the
database's bad moments; a server that goes away is retried, with one line
on stderr per problem.
"""

from __future__ import annotations

from typing import Callable

import click
import msgspec

from app.cli.common import pass_runtime
from app.cli.runtime import Runtime, refuse
from app.cli.notify import _stop_requests, report_mail
from app.cli.rounds import run_rounds
from app.notify import quarantine
from app.notify.imap import FETCH_BATCH, Fetched, ImapProblem, Mailbox
from app.notify.inbound import NotAMessage, parse_reply
from app.service import Refused
from data.models import utcnow
from widgets.safe_text import shown


class Counts(msgspec.Struct):
    recorded: int = 0
    duplicate: int = 0
    kept: int = 0
    left: int = 0

    def summary(self) -> str:
        return (f"{self.recorded} recorded, {self.duplicate} already recorded, {self.kept} kept in quarantine, "
                f"{self.left} left in the folder")


def record(runtime: Runtime, item: Fetched, folder: str) -> str:
    """Record one fetched message; "recorded", "duplicate", "kept" (quarantined) or "left" (not recorded)."""
    config = runtime.config
    try:
        mail = parse_reply(item.raw)
    except NotAMessage as exc:
        try:
            kept = quarantine.keep(item.raw, None, quarantine.folder(config.notify.quarantine, config.path), utcnow())
        except OSError as error:
            click.echo(f"triageboard: fetch-mail: {folder} UID {item.uid} refused ({exc}) and could not be kept: "
                       f"{error.strerror or error}; left in {folder}", err=True)
            return "left"
        click.echo(f"triageboard: fetch-mail: {folder} UID {item.uid} refused: {exc}; kept in {kept}", err=True)
        return "kept"
    if not mail.message_id:
        mail = msgspec.structs.replace(mail, message_id=item.fallback_id)
    try:
        result = runtime.service.receive_mail(mail, item.raw)
    except Refused as exc:
        click.echo(shown(f"triageboard: fetch-mail: {folder} UID {item.uid} not recorded: {exc}; "
                         f"left in {folder}"), err=True)
        return "left"
    except OSError as exc:
        click.echo(f"triageboard: fetch-mail: {folder} UID {item.uid} not recorded: cannot save its attachments: "
                   f"{exc.strerror or exc}; left in {folder}", err=True)
        return "left"
    report_mail(runtime, result, False)
    return "duplicate" if result.duplicate else "recorded"


def fetch_once(runtime: Runtime, box: Mailbox, on_recorded: Callable[[Fetched], None] | None = None) -> Counts:
    """Record every message waiting in the folder, moving each after its transaction commits.

    `on_recorded` runs between the two (tests stop the process there, as a crash would).
    """
    counts = Counts()
    folder = box.settings.folder
    uids = box.waiting()
    for start in range(0, len(uids), FETCH_BATCH):
        for item in box.fetch(uids[start:start + FETCH_BATCH]):
            outcome = record(runtime, item, folder)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            if outcome == "left":
                continue
            if on_recorded is not None:
                on_recorded(item)
            box.move_done(item.uid)
    return counts


@click.command("fetch-mail")
@click.option("--once", is_flag=True, help="record what waits in the folder now, then exit")
@click.option("--interval", type=click.FloatRange(min=0.1), default=60.0, show_default=True, metavar="SECONDS",
              help="without --once: how often to look when the server offers no IDLE (and to renew IDLE)")
@pass_runtime
def fetch_mail(runtime: Runtime, once: bool, interval: float) -> None:
    """Fetch the support mailbox by IMAP into tickets (intake.imap); without --once, until Ctrl+C."""
    intake = runtime.config.intake
    if intake is None or intake.imap is None:
        refuse("fetch-mail needs intake.imap in config.yaml: {host, user, password_env, folder, processed_folder}", 2)
    settings = intake.imap
    try:
        settings.password()
    except ValueError as exc:
        refuse(str(exc), 2)
    box = Mailbox(settings)
    where = f"{settings.user}@{settings.host}:{settings.port}/{settings.folder}"
    if once:
        try:
            with box:
                counts = fetch_once(runtime, box)
        except ImapProblem as exc:
            refuse(f"fetch-mail: {exc}", 1)
        click.echo(f"fetch-mail: {counts.summary()}")
        return
    stop = _stop_requests()
    problem = [""]

    def round_() -> float:
        try:
            if box.client is None:
                box.open()
                click.echo(f"fetch-mail: watching {where} "
                           f"({'IDLE' if box.can_idle else f'every {interval:g}s'}); Ctrl+C stops", err=True)
                if problem[0]:
                    problem[0] = ""
            fetch_once(runtime, box)
            if box.can_idle:
                box.idle(interval, stop)
                return 0.0
            return interval
        except ImapProblem as exc:
            if str(exc) != problem[0]:
                click.echo(f"triageboard: fetch-mail: {exc}; retrying every {min(interval, 30.0):g}s", err=True)
                problem[0] = str(exc)
            box.close()
            return min(interval, 30.0)

    try:
        run_rounds("fetch-mail", round_, stop=stop)
    except KeyboardInterrupt:
        pass
    finally:
        box.close()
    click.echo("fetch-mail: stopped", err=True)


def register(group: click.Group) -> None:
    group.add_command(fetch_mail)

