"""The workflow rules as plain functions: graph, hold reasons, statuses, WIP."""

import msgspec

from app.board.workflow import check_move, default_reason, support_status


def test_status_follows_state_and_hold_reason(config):
    wf = config.workflow
    assert support_status(wf, "todo") == "Open"
    assert support_status(wf, "ready") == "Open"
    assert support_status(wf, "in_progress") == "In Progress"
    assert support_status(wf, "on_hold", "requester") == "Pending"
    assert support_status(wf, "on_hold", "external") == "On Hold"
    assert support_status(wf, "resolved") == "Development Complete"
    assert support_status(wf, "closed") == "Released"
    assert support_status(wf, "closed", solved=True) == "Solved"


def test_forbidden_move_lists_the_allowed_ones(config):
    verdict = check_move(config.workflow, "todo", "resolved")
    assert not verdict.ok
    message = verdict.errors[0]
    assert "To Do" in message and "Resolved" in message
    for title in ("Ready", "On Hold", "Closed"):
        assert title in message


def test_hold_needs_a_reason_and_only_there(config):
    wf = config.workflow
    assert "hold reason" in check_move(wf, "in_progress", "on_hold").errors[0]
    assert check_move(wf, "in_progress", "on_hold", hold_reason="requester").ok
    assert not check_move(wf, "in_progress", "resolved", hold_reason="requester").ok


def test_triage_gate_applies_only_when_leaving_todo_for_ready(config):
    wf = config.workflow
    refused = check_move(wf, "todo", "ready", triage_missing=("priority",))
    assert not refused.ok and "priority" in refused.errors[0]
    assert check_move(wf, "todo", "closed", triage_missing=("priority",)).ok
    assert check_move(wf, "on_hold", "ready", hold_reason=None, triage_missing=("priority",)).ok


def test_wip_limit_refuses_or_warns_as_configured(config):
    wf = config.workflow
    full = check_move(wf, "ready", "in_progress", count_in_target=5)
    assert not full.ok and "WIP limit" in full.errors[0]
    assert check_move(wf, "ready", "in_progress", count_in_target=4).ok
    warn = msgspec.structs.replace(wf, wip_policy="warn")
    lenient = check_move(warn, "ready", "in_progress", count_in_target=5)
    assert lenient.ok and "WIP limit" in lenient.warnings[0]


def test_named_loops_carry_their_reason(config):
    wf = config.workflow
    assert default_reason(wf, "resolved", "in_progress") == "not fixed"
    assert default_reason(wf, "closed", "in_progress") == "reopened"
    assert default_reason(wf, "todo", "closed") == "solved by support"
    assert default_reason(wf, "ready", "in_progress") is None
