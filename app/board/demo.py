"""A demo database with realistic tickets in every column.

The day's story (the first `STORY` tickets: a fresh P1, cards near their
targets, a reply just in) is built through the one write path (create,
triage fields, moves), so it has the same history, statuses and
notifications a real board would. A bigger demo (`--tickets 100000`) gets the
rest as last weeks' closed work through the import's bulk path, so it fills in
seconds.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from app.config.settings import Config
from app.notify.inbound import Reply
from app.board.ordering import sort_key
from app.board.workflow import support_status
from app.service import Service
from data.db import open_database
from data.models import Ticket, utcnow

STORY = 60
"""Tickets the demo plays through the write path; any more come in bulk as closed backlog."""

TITLES = [
    ("incident", "LMS courseware pages return 502 for all learners", "LMS"),
    ("incident", "Checkout totally down on community server", "Ecommerce"),
    ("escalation", "Customer cannot issue program certificates", "Credentials"),
    ("escalation", "Enterprise SSO users bounced back to the login page", "LMS"),
    ("bug", "Search results miss courses starting next month", "Discovery"),
    ("bug", "Mobile app crashes when opening downloaded videos", "Mobile"),
    ("bug", "Refund e-mail shows the wrong currency", "Ecommerce"),
    ("bug", "Dashboard shows expired verified certificate banner", "LMS"),
    ("bug", "ID verification photo upload times out on slow links", "LMS"),
    ("bug", "Course about page renders [bold]markup[/bold] literally", "Discovery"),
    ("question", "How do we bulk-enrol a cohort from a CSV?", "LMS"),
    ("question", "Is the credit eligibility API rate limited?", "Credentials"),
    ("feature", "Export learner progress to the partner's data lake", "LMS"),
    ("bug", "Course metadata sync drops translated titles", "Discovery"),
    ("bug", "Payment webhook retried forever after a 410", "Ecommerce"),
    ("question", "Why does the logistration page ask for a country twice?", "LMS"),
]
REQUESTERS = [("Priya Natarajan", "priya@customer.example"), ("Tom O'Neill", "tom@partner.example"),
              ("Mei Lin", "mei@university.example"), ("Ana Souza", "ana@school.example")]


def demo_database(config: Config, *, fresh: bool = True, count: int = 60) -> str:
    """Create (or reuse) the demo SQLite file beside the config and return its URL."""
    path = config.path.parent.resolve() / "triageboard-demo.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    open_database(url)
    if Ticket.select().count() == 0:
        seed(config, count)
    return url


def seed(config: Config, count: int, rng: random.Random | None = None, now: dt.datetime | None = None) -> None:
    """Fill the board as a support rotation's ordinary day looks at `now` (default: the current time).

    Every instant is placed in working time before `now` (the `sla:` calendar), so whatever day the
    demo is opened, even a Sunday, it shows the same day: most cards answered recently and on target,
    a few To Do cards near their first-response target (warning), two past it (breached), a fresh P1
    waiting for acknowledgement, a reply that has just come in, and a card stale in On Hold.
    """
    rng = rng or random.Random(7)
    now = now or utcnow()
    calendar = config.sla.calendar
    clock = {"now": now}
    service = Service(config, clock=lambda: clock["now"])
    handles = list(config.handles) or [None]
    keys = list(config.workflow.keys)
    day = calendar.day_length.total_seconds() / 3600

    def ago(hours: float) -> dt.datetime:
        """The instant `hours` working hours before `now` (bisection over the calendar's working time)."""
        want = dt.timedelta(hours=hours)
        aware_now = now.replace(tzinfo=dt.timezone.utc)
        low, high = aware_now - dt.timedelta(days=60), aware_now
        for _ in range(40):
            middle = low + (high - low) / 2
            if calendar.working_time_between(middle, aware_now) > want:
                low = middle
            else:
                high = middle
        return high.replace(tzinfo=None)

    backlog = max(0, count - STORY)
    count -= backlog
    roles = _roles(count, keys)
    # In Progress keeps a free place for the cards that pass through it and for the reply's ticket.
    in_progress_room = (config.workflow.column(keys[2]).wip_limit or count) - 2 if len(keys) > 2 else count
    replied: list[tuple[str, str, str, str]] = []
    for index, (target, role) in enumerate(roles):
        kind, title, service_name = TITLES[index % len(TITLES)]
        name, email = REQUESTERS[index % len(REQUESTERS)]
        if role == "p1":
            kind, title, service_name = TITLES[1]
        if len(keys) > 2 and target == keys[2]:
            if in_progress_room <= 0:
                target = keys[1]
            in_progress_room -= 1
        age = {"warning": rng.uniform(0.8, 0.9) * day, "breached": rng.uniform(1.2, 1.6) * day,
               "p1": 0.25, "stale": 7 * day, "reply": 2 * day}.get(role, rng.uniform(0.3, 0.6) * day)
        clock["now"] = ago(age)
        ticket = service.create(title=title if index < len(TITLES) else f"{title} (#{index})", kind=kind,
                                service=service_name if service_name in config.services else None,
                                requester_name=name, requester_email=email, by=rng.choice(handles),
                                description="Reported through the support desk.",
                                bug_class=rng.choice(["hotfix", "release", "customer", "other"]) if kind == "bug" else None)
        if target == keys[0] and role == "ok" and index % 3 == 0:
            continue  # untriaged, as a morning's To Do looks
        impact, urgency = ("critical", "immediate") if role == "p1" else (rng.choice(["high", "medium", "low"]),
                                                                           rng.choice(["normal", "low"]))
        service.triage(ticket.key, by=handles[0], actionable="yes", acknowledged=True, impact=impact,
                       urgency=urgency, reproducible=rng.choice(["yes", "untested"]))
        if role != "p1":
            service.assign(ticket.key, rng.choice(handles), by=handles[0])
        last = {"stale": 6 * day, "reply": 1.5 * day}.get(role, rng.uniform(0.05, 0.25) * day)
        _walk(service, ticket.key, target, clock, ago(age), ago(last), "requester" if role in ("stale", "reply")
              else None)
        if role == "reply":
            replied.append((ticket.key, title, name, email))
    clock["now"] = now - dt.timedelta(minutes=4)  # requesters write at any hour
    for key, title, name, email in replied:
        try:
            service.receive_reply(Reply(sender=email, sender_name=name, subject=f"Re: [{key}] {title}",
                                        message_id=f"<demo-reply-{key}@customer.example>", references=(),
                                        text="Here is the export you asked for; it still drops rows."))
        except Exception:  # a full In Progress: the reply is recorded where it may
            pass
    clock["now"] = now
    try:
        service.escalate_due(now)  # the fresh P1 pages the primary, as it would have minutes ago
    except Exception:  # no rotation or escalation configured: the card is marked all the same
        pass
    if backlog:
        _backlog(service, backlog, rng, now - dt.timedelta(days=7))


def _backlog(service: Service, count: int, rng: random.Random, before: dt.datetime) -> None:
    """`count` tickets done before `before`: created, triaged, walked to the final column, in one bulk insert."""
    config = service.config
    workflow = config.workflow
    handles = list(config.handles) or [""]
    keys = list(workflow.keys)
    first = (Ticket.select(Ticket.number).order_by(Ticket.number.desc()).scalar() or 0) + 1
    rows, histories = [], {}
    for offset in range(count):
        number = first + offset
        kind, title, service_name = TITLES[number % len(TITLES)]
        name, email = REQUESTERS[number % len(REQUESTERS)]
        created = before - dt.timedelta(minutes=rng.uniform(0, 90 * 24 * 60))
        priority = rng.choice((2, 3, 3, 4))
        key = f"{config.board.key}-{number}"
        who = rng.choice(handles)
        rows.append(dict(key=key, number=number, title=f"{title} (#{number})", kind=kind,
                         service=service_name if service_name in config.services else None, requester_name=name,
                         requester_email=email, reporter=who, description="Reported through the support desk.",
                         priority=priority, sort_key=sort_key(kind, None, priority), actionable="yes",
                         acknowledged=True, assignee=who or None, state=keys[-1], rank=float(number),
                         created=created, updated=created, state_entered=created))
        history = [{"kind": "create", "at": created, "by": who, "to_state": keys[0],
                    "status_after": support_status(workflow, keys[0])}]
        for step, (source, target) in enumerate(zip(keys, keys[1:]), 1):
            if workflow.column(target).is_hold:
                continue
            at = created + dt.timedelta(hours=4 * step)
            history.append({"kind": "move", "at": at, "by": who, "from_state": history[-1]["to_state"],
                            "to_state": target, "status_before": history[-1]["status_after"],
                            "status_after": support_status(workflow, target)})
        rows[-1]["state_entered"] = rows[-1]["updated"] = history[-1]["at"]
        histories[key] = history
    service.bulk_insert(rows, histories)


def _roles(count: int, keys: list[str]) -> list[tuple[str, str]]:
    """(column, role) for each ticket: columns in turn, and the day's few special cards among them."""
    roles = [(keys[index % len(keys)], "ok") for index in range(count)]
    special = {0: "p1", 6: "warning", 12: "warning", 18: "breached", 24: "warning", 30: "breached"}
    for index, role in special.items():
        if index < count:
            roles[index] = (keys[0], role)
    if len(keys) > 3 and count > 9:
        roles[3] = (keys[3], "stale")  # On Hold, waiting on the requester for a week
        roles[9] = (keys[3], "reply")  # … and one whose requester has just answered
    return roles


def _walk(service: Service, key: str, target: str, clock: dict, start: dt.datetime, end: dt.datetime,
          hold: str | None) -> None:
    """Move along the happy path until `target`, the moves spread between `start` and `end`."""
    path = {"todo": [], "ready": ["ready"], "in_progress": ["ready", "in_progress"],
            "on_hold": ["ready", "in_progress", "on_hold"],
            "resolved": ["ready", "in_progress", "resolved"],
            "closed": ["ready", "in_progress", "resolved", "closed"]}.get(target, [])
    for number, step in enumerate(path, 1):
        clock["now"] = start + (end - start) * number / len(path)
        try:
            service.move(key, step, by=service.config.handles[0],
                         hold_reason=(hold or "external") if step == "on_hold" else None)
        except Exception:  # a WIP limit or a custom workflow: the demo stops where it may
            return
