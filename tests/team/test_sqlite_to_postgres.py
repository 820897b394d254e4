"""A team starts solo and grows: `export` from SQLite, `import` into PostgreSQL keeps keys and history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.config.settings import load_config
from app.service import Service
from data.db import open_database
from data.models import database_proxy

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("config.yaml")
TRIAGED = {"actionable": "yes", "acknowledged": True, "priority": 2}


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "alice"}
    env.pop("TRIAGEBOARD_DB", None)
    return subprocess.run([sys.executable, "-m", "app", "--config", str(CONFIG), "--db", db_url, *args],
                          capture_output=True, text=True, env=env, timeout=60)


def comparable(document: dict) -> list[dict]:
    """An export without what each database assigns itself (row ids, the concurrency version)."""
    tickets = []
    for ticket in document["tickets"]:
        ticket = {k: v for k, v in ticket.items() if k not in ("id", "version")}
        ids = {h["id"]: n for n, h in enumerate(ticket["history"])}
        ticket["history"] = [{**{k: v for k, v in h.items() if k != "id"},
                              "undoes": ids.get(h["undoes"]) if h["undoes"] is not None else None}
                             for h in ticket["history"]]
        tickets.append(ticket)
    return tickets


def test_export_from_sqlite_import_into_postgres(sqlite_url, pg_url, tmp_path):
    open_database(sqlite_url)
    solo = Service(load_config(CONFIG))
    for n in range(1, 6):
        solo.create(title=f"solo ticket {n}", requester_email=f"r{n}@example.org", by="alice", **TRIAGED)
    solo.move("SET-1", "ready", by="alice")
    solo.move("SET-1", "in_progress", by="bob")
    solo.move("SET-2", "on_hold", hold_reason="requester", by="alice")
    solo.move("SET-3", "closed", by="alice")
    solo.move("SET-3", "solved", by="alice")
    solo.move("SET-4", "ready", by="bob")
    solo.undo("SET-4", by="bob")
    solo.create(title="numbered by hand", key="SET-40", by="alice")
    database_proxy.obj.close()

    exported = tmp_path / "board.json"
    done = cli(sqlite_url, "export", "--output", str(exported))
    assert done.returncode == 0, done.stderr
    done = cli(pg_url, "import", str(exported))
    assert done.returncode == 0, done.stderr
    assert "imported 6 tickets" in done.stdout
    again = cli(pg_url, "export")
    assert again.returncode == 0, again.stderr

    before, after = json.loads(exported.read_text()), json.loads(again.stdout)
    assert [t["key"] for t in after["tickets"]] == ["SET-1", "SET-2", "SET-3", "SET-4", "SET-5", "SET-40"]
    assert comparable(after) == comparable(before)

    # The team carries on where the solo board stopped.
    added = cli(pg_url, "ticket", "add", "first team ticket")
    assert (added.returncode, added.stdout.strip()) == (0, "SET-41")
    undone = cli(pg_url, "undo", "SET-4")  # the imported undo is still known as one
    assert undone.returncode == 1 and "already an undo" in undone.stderr
    moved = cli(pg_url, "move", "SET-1", "resolved", "--by", "bob")
    assert moved.returncode == 0, moved.stderr
    shown = json.loads(cli(pg_url, "ticket", "show", "SET-1", "--json").stdout)
    assert [h["to_state"] for h in shown["history"]] == ["todo", "ready", "in_progress", "resolved"]


def test_the_demo_moved_to_postgres_shows_every_ticket_the_same(tmp_path, pg_url):
    """The outbox travels too: SLA state (a first response, a pause) and the detail read it (issue 19.6).

    Compares what `ticket show --json` prints (built as the command builds it, in
    this process: 30 subprocesses per database would take a minute) and the outbox.
    """
    import datetime as dt

    from app.board.demo import seed
    from app.board.serialize import ticket_dict
    from app.sla.labels import sla_json
    from app.sla.source import statuses
    from data.models import Notification, Ticket

    config = load_config(CONFIG)
    sqlite_url = f"sqlite:///{tmp_path / 'demo.db'}"
    open_database(sqlite_url)
    seed(config, 30)
    now = max(t.updated for t in Ticket.select()) + dt.timedelta(hours=3)
    database_proxy.obj.close()
    exported = tmp_path / "board.json"
    assert cli(sqlite_url, "export", "--output", str(exported)).returncode == 0
    done = cli(pg_url, "import", "--page-open-p1", str(exported))
    assert done.returncode == 0, done.stderr

    def shown(url: str) -> dict:
        open_database(url)
        service = Service(config, clock=lambda: now)
        result = {}
        for found in Ticket.select().order_by(Ticket.number):
            data = {**ticket_dict(found, support_status=service.status_of(found), history=service.history(found)),
                    "sla": sla_json(statuses(config, [found.id], now)[found.id])}
            for name in ("id", "version"):
                data.pop(name, None)
            data["history"] = [{k: v for k, v in h.items() if k not in ("id", "undoes")} for h in data["history"]]
            data["outbox"] = [(n.kind, n.recipient, n.subject, n.status, n.created, n.sent_at)
                              for n in Notification.select().where(Notification.ticket == found)
                              .order_by(Notification.id)]
            result[found.key] = data
        database_proxy.obj.close()
        return result

    before, after = shown(sqlite_url), shown(pg_url)
    assert list(after) == list(before) and len(before) == 30
    assert [key for key in before if before[key] != after[key]] == []


HOSTILE = ["clear\x1b[2Jscreen", "osc\x1b]0;pwned\x07title", "link \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\",
           "rtl \u202eabc", "c1 \x9b2J and DEL \x7f", "[bold]x[/]"]


def test_a_board_holding_hostile_text_moves_to_postgres_unchanged(sqlite_url, pg_url, tmp_path):
    """Issue 21: the SQLite -> PostgreSQL migration of a board holding terminal controls, bidi overrides and
    markup succeeds, and every character comes through as it was stored (it is only shown escaped)."""
    open_database(sqlite_url)
    solo = Service(load_config(CONFIG))
    for title in HOSTILE:
        solo.create(title=title, description=f"about {title}\nsecond line", requester_email="r@example.org",
                    by="alice", **TRIAGED)
    solo.move("SET-1", "ready", by="alice", reason="why \x1b]0;x\x07")
    database_proxy.obj.close()

    exported = tmp_path / "board.json"
    assert cli(sqlite_url, "export", "--output", str(exported)).returncode == 0
    done = cli(pg_url, "import", str(exported))
    assert done.returncode == 0, done.stderr
    again = cli(pg_url, "export")
    assert again.returncode == 0, again.stderr
    after = json.loads(again.stdout)
    assert [t["title"] for t in after["tickets"]] == HOSTILE
    assert comparable(after) == comparable(json.loads(exported.read_text()))
    listed = cli(pg_url, "ticket", "list")
    assert listed.returncode == 0 and "\x1b" not in listed.stdout and "\u202e" not in listed.stdout
