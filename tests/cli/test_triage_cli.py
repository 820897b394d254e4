"""`triageboard triage` and `triageboard assign` as scripts call them: a subprocess, exit codes, JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path, db_url):
    """`triageboard` as a subprocess on the run's backend (`db_url` from tests/conftest.py)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": "erin"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", "--config", str(ROOT / "config.yaml"), "--db", db_url,
                               *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    return run


def show(run, key):
    result = run("ticket", "show", key, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_triage_then_move_to_ready(run):
    assert run("ticket", "add", "Learners cannot log in").stdout.strip() == "SET-1"
    refused = run("move", "SET-1", "ready")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "missing actionable (not answered), priority (answer impact and urgency, or set one), " \
           "communication (requester not acknowledged)" in refused.stderr

    done = run("triage", "SET-1", "--impact", "high", "--urgency", "immediate", "--reproducible", "yes",
               "--actionable", "yes", "--acknowledged")
    assert done.returncode == 0, done.stderr
    assert "ready to move on: yes" in done.stdout
    data = show(run, "SET-1")
    assert (data["impact"], data["urgency"], data["reproducible"], data["actionable"]) == (
        "high", "immediate", "yes", "yes")
    assert (data["priority"], data["priority_overridden"], data["needs_ack"]) == ("P1", False, True)
    assert data["acknowledged"] is True and data["triage_missing"] == []
    assert [h["kind"] for h in data["history"]] == ["create", "triage"]
    assert run("move", "SET-1", "ready").returncode == 0


def test_override_is_visible_and_clears(run):
    run("ticket", "add", "Slow search")
    run("triage", "SET-1", "--impact", "medium", "--urgency", "normal")
    assert show(run, "SET-1")["priority"] == "P3"
    result = run("triage", "SET-1", "--priority", "P2", "--json")
    data = json.loads(result.stdout)
    assert (data["priority"], data["priority_overridden"]) == ("P2", True)
    assert "P2 (override; matrix says P3)" in run("triage", "SET-1").stdout
    data = json.loads(run("triage", "SET-1", "--clear-override", "--json").stdout)
    assert (data["priority"], data["priority_overridden"]) == ("P3", False)


def test_routing_converts_to_a_feature_request(run):
    run("ticket", "add", "Please support dark mode")
    result = run("triage", "SET-1", "--kind", "feature", "--service", "LMS")
    assert result.returncode == 0, result.stderr
    data = show(run, "SET-1")
    assert (data["kind"], data["service"]) == ("feature", "LMS")
    assert data["history"][-1]["reason"] == "converted to feature request"


@pytest.mark.parametrize("args, code, message", [
    (("triage", "SET-1", "--impact", "huge"), 2, "--impact: 'huge' is not one of critical, high, medium, low"),
    (("triage", "SET-1", "--actionable", "maybe"), 2, "--actionable: 'maybe' is not one of yes, no"),
    (("triage", "SET-1", "--priority", "P7"), 2, "--priority: priority must be P1, P2, P3 or P4"),
    (("triage", "SET-1", "--priority", "P1", "--clear-override"), 2, "contradict"),
    (("triage", "SET-1", "--deadline", "soonish"), 2, "--deadline: expected a date"),
    (("triage", "SET-9", "--impact", "low"), 1, "no ticket 'SET-9'"),
    (("triage", "SET-1", "--service", "Nope"), 1, "unknown service 'Nope'"),
    (("assign", "SET-1"), 2, "give exactly one of HANDLE, --suggest or --unassign"),
    (("assign", "SET-1", "bob", "--suggest"), 2, "give exactly one"),
    (("assign", "SET-1", "zed"), 1, "unknown team member 'zed'"),
])
def test_refusals_are_one_line_with_the_right_exit_code(run, args, code, message):
    run("ticket", "add", "Something")
    result = run(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_assign_by_hand_and_by_fair_suggestion(run):
    for title in ("one", "two", "three"):
        run("ticket", "add", title)
    assert run("assign", "SET-1", "alice").stdout.strip() == "SET-1: assigned to alice"
    # alice has one open ticket and was asked last; bob, carol, … have none: bob (alphabetical).
    result = run("assign", "SET-2", "--suggest")
    assert result.stdout.startswith("SET-2: assigned to bob (0 open tickets, the fewest; alice was asked last)")
    only = json.loads(run("assign", "SET-3", "--suggest", "--only-suggest", "--json").stdout)
    assert only["suggested"] == "carol" and only["last_asked"] == "bob"
    assert show(run, "SET-3")["assignee"] is None
    assert [h["kind"] for h in show(run, "SET-2")["history"]] == ["create", "suggest", "assign"]
    assert run("assign", "SET-1", "--unassign").stdout.strip() == "SET-1: unassigned"


def test_ticket_list_untriaged(run):
    for title in ("new", "triaged", "half"):
        run("ticket", "add", title)
    run("triage", "SET-2", "--impact", "low", "--urgency", "low", "--actionable", "yes", "--acknowledged")
    run("triage", "SET-3", "--actionable", "yes")
    listed = json.loads(run("ticket", "list", "--untriaged", "--json").stdout)
    assert [t["key"] for t in listed] == ["SET-1", "SET-3"]
    assert listed[1]["triage_missing"] == ["priority (answer impact and urgency, or set one)",
                                           "communication (requester not acknowledged)"]
