"""A demo database with realistic tickets in every column.

Built through the one write path (create, triage fields, moves), so the demo
has the same history, statuses and notifications a real board would.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from app.config import Config
from app.service import Service
from data.db import open_database
from data.models import Ticket, utcnow

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


def seed(config: Config, count: int, rng: random.Random | None = None) -> None:
    """Fill the board: each ticket walks a realistic path through the workflow."""
    rng = rng or random.Random(7)
    # Spread over the last week, so some cards are fresh and a few have gone stale.
    span = dt.timedelta(days=8)
    start = utcnow() - span
    spacing = span / max(count + 4, 1)
    clock = {"now": start}
    service = Service(config, clock=lambda: clock["now"])
    handles = list(config.handles) or [None]
    keys = list(config.workflow.keys)
    for index in range(count):
        kind, title, service_name = TITLES[index % len(TITLES)]
        name, email = REQUESTERS[index % len(REQUESTERS)]
        clock["now"] = start + spacing * index
        ticket = service.create(title=title if index < len(TITLES) else f"{title} (#{index})", kind=kind,
                                service=service_name if service_name in config.services else None,
                                requester_name=name, requester_email=email, by=rng.choice(handles),
                                description="Reported through the support desk.",
                                bug_class=rng.choice(["hotfix", "release", "customer", "other"]) if kind == "bug" else None)
        target = keys[index % len(keys)]
        if target == keys[0] and index % 3 == 0:
            continue  # untriaged, as a morning's To Do looks
        service.triage(ticket.key, by=handles[0], actionable="yes", acknowledged=True,
                       impact=rng.choice(["high", "medium", "low"]), urgency=rng.choice(["soon", "normal", "low"]),
                       reproducible=rng.choice(["yes", "untested"]))
        service.assign(ticket.key, rng.choice(handles), by=handles[0])
        _walk(service, ticket.key, target, clock, rng)


def _walk(service: Service, key: str, target: str, clock: dict, rng: random.Random) -> None:
    """Move along the happy path until `target`, with an occasional detour."""
    path = {"todo": [], "ready": ["ready"], "in_progress": ["ready", "in_progress"],
            "on_hold": ["ready", "in_progress", "on_hold"],
            "resolved": ["ready", "in_progress", "resolved"],
            "closed": ["ready", "in_progress", "resolved", "closed"]}.get(target, [])
    for step in path:
        clock["now"] += dt.timedelta(minutes=rng.randint(10, 90))
        hold = rng.choice(["requester", "external"]) if step == "on_hold" else None
        try:
            service.move(key, step, by=service.config.handles[0], hold_reason=hold)
        except Exception:  # a WIP limit or a custom workflow: the demo stops where it may
            return
