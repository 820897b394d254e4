"""The pure triage rules: matrix, impact questions, events, intake, the gate, the panel."""

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.triage import rules as triage
from app.config.settings import load_config
from app.config.yamlnodes import ConfigError

ROOT = Path(__file__).resolve().parents[2]

ISSUE_MATRIX = """
critical | P1 | P1 | P2 | P2
high     | P1 | P2 | P2 | P3
medium   | P2 | P3 | P3 | P4
low      | P3 | P4 | P4 | P4
"""


def with_triage(tmp_path: Path, section: str) -> Path:
    """The repo's config.yaml with its `triage:` section replaced."""
    text = (ROOT / "config.yaml").read_text()
    text = re.sub(r"\ntriage:.*?(?=\n\S|\Z)", "", text, flags=re.S) + "\n" + section
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("line", [line for line in ISSUE_MATRIX.strip().splitlines()])
def test_default_matrix_is_the_issues_table(line):
    impact, *cells = [part.strip() for part in line.split("|")]
    for urgency, cell in zip(triage.URGENCIES, cells):
        assert triage.suggested_priority(impact, urgency) == int(cell[1])


def test_repo_config_matrix_equals_the_default():
    assert load_config(ROOT / "config.yaml").triage.matrix == triage.DEFAULT_MATRIX


def test_priority_needs_both_answers():
    assert triage.suggested_priority("high", None) is None
    assert triage.suggested_priority(None, "soon") is None


def test_configured_matrix_list_and_mapping_rows(tmp_path):
    config = load_config(with_triage(tmp_path, """triage:
  matrix:
    critical: [P1, P1, P1, P1]
    high: {immediate: P1, soon: P1, normal: P2, low: P2}
    medium: [P2, P3, P3, P4]
    low: [2, 4, 4, 4]
  event_window: 1d
  soon_window: 1w
"""))
    assert triage.suggested_priority("critical", "low", config.triage.matrix) == 1
    assert triage.suggested_priority("high", "soon", config.triage.matrix) == 1
    assert triage.suggested_priority("low", "immediate", config.triage.matrix) == 2
    assert (config.triage.event_window, config.triage.soon_window) == (1, 7)


@pytest.mark.parametrize("matrix, message", [
    ("    critical: [P1, P1, P2, P5]\n    high: [P1, P2, P2, P3]\n    medium: [P2, P3, P3, P4]\n"
     "    low: [P3, P4, P4, P4]\n", r"config.yaml:\d+: triage.matrix.critical: low: expected P1, P2, P3 or P4"),
    ("    critical: [P1, P1, P2]\n    high: [P1, P2, P2, P3]\n    medium: [P2, P3, P3, P4]\n"
     "    low: [P3, P4, P4, P4]\n", r"triage.matrix.critical: expected 4 priorities"),
    ("    critical: [P1, P1, P2, P2]\n    high: [P1, P2, P2, P3]\n    medium: [P2, P3, P3, P4]\n",
     r"triage.matrix: missing required key 'low'"),
    ("    critical: [P1, P1, P2, P2]\n    severe: [P1, P2, P2, P3]\n",
     r"triage.matrix.severe: unknown key"),
    ("    critical: {immediate: P1, soon: P1, normal: P2}\n    high: [P1, P2, P2, P3]\n"
     "    medium: [P2, P3, P3, P4]\n    low: [P3, P4, P4, P4]\n", r"triage.matrix.critical: missing required key 'low'"),
])
def test_bad_matrix_names_file_line_and_key(tmp_path, matrix, message):
    with pytest.raises(ConfigError, match=message):
        load_config(with_triage(tmp_path, "triage:\n  matrix:\n" + matrix))


def test_bad_windows(tmp_path):
    with pytest.raises(ConfigError, match="triage.event_window"):
        load_config(with_triage(tmp_path, "triage:\n  event_window: soon\n"))
    with pytest.raises(ConfigError, match="triage.soon_window: must be at least event_window"):
        load_config(with_triage(tmp_path, "triage:\n  event_window: 5d\n  soon_window: 2d\n"))


@pytest.mark.parametrize("users, frequency, down, expected", [
    (None, None, True, "critical"),
    ("subset", "intermittent", True, "critical"),
    ("many", "always", False, "high"),
    ("many", "intermittent", None, "medium"),
    ("subset", "always", None, "medium"),
    ("subset", "intermittent", False, "low"),
    ("many", None, None, None),
    (None, None, False, None),
])
def test_impact_from_the_three_questions(users, frequency, down, expected):
    assert triage.suggested_impact(users_affected=users, frequency=frequency, service_down=down) == expected


TODAY = dt.date(2026, 11, 2)
WINDOWS = triage.TriageConfig(event_window=3, soon_window=14)


@pytest.mark.parametrize("deadline, implied", [
    ("2026-11-02", "immediate"), ("2026-11-05", "immediate"), ("2026-10-31", "immediate"),
    ("2026-11-06", "soon"), ("2026-11-16", "soon"), ("2026-11-17", None), ("2026-10-29", None), (None, None),
])
def test_events_imply_urgency(deadline, implied):
    assert triage.urgency_from_date(deadline, TODAY, WINDOWS) == implied


def test_events_raise_urgency_but_never_lower_it():
    assert triage.effective_urgency("low", "2026-11-03", TODAY, WINDOWS) == "immediate"
    assert triage.effective_urgency("normal", "2026-11-10", TODAY, WINDOWS) == "soon"
    assert triage.effective_urgency("immediate", "2026-11-10", TODAY, WINDOWS) == "immediate"
    assert triage.effective_urgency("normal", "2027-01-01", TODAY, WINDOWS) == "normal"
    assert triage.effective_urgency(None, None, TODAY, WINDOWS) is None


def test_intake_names_sourcegraphs_four_fields():
    assert triage.intake_missing(description="", background=None, impact_statement=" ", extra_info="") == (
        "short description", "background/context", "impact", "extra information")
    full = dict(description="Login fails", background="Since the deploy", impact_statement="All learners",
                extra_info="Logs attached")
    assert triage.intake_missing(**full) == ()
    assert triage.suggested_actionable(**full) == "yes"
    assert triage.suggested_actionable(**{**full, "background": ""}) == "no"


def test_gate_lists_what_is_missing_in_words():
    assert triage.missing(actionable=None, priority=None, acknowledged=False, impact="high") == (
        "actionable (not answered)", "priority (answer urgency, or set one)",
        "communication (requester not acknowledged)")
    assert triage.missing(actionable="no", priority=3, acknowledged=True) == (
        "actionable (answered no: not enough to start)",)
    assert triage.missing(actionable="yes", priority=2, acknowledged=True) == ()


def answers(**fields):
    base = dict(users_affected=None, frequency=None, service_down=None, impact=None, urgency=None, deadline=None,
                description="", background="", impact_statement="", extra_info="", actionable=None,
                reproducible=None, acknowledged=False, next_steps_sent=False, eta=None, priority=None,
                priority_overridden=False)
    return SimpleNamespace(**{**base, **fields})


def test_panel_rows_show_missing_answers_and_their_keys():
    rows = {row.field or row.question: row for row in triage.panel_rows(answers(), WINDOWS, TODAY)}
    assert rows["impact"].answer == "missing" and rows["impact"].missing and rows["impact"].key == "i"
    assert rows["actionable"].missing and rows["acknowledged"].answer == "missing"
    assert rows["priority"].answer == "missing"
    assert rows["reproducible"].answer == "not asked" and not rows["reproducible"].missing
    intake = next(row for row in rows.values() if row.question.startswith("Intake"))
    assert intake.key is None and intake.answer.startswith("lacks short description")
    keys = [row.key for row in rows.values() if row.key]
    assert len(keys) == len(set(keys)), "every editable row has its own key"


def test_panel_rows_explain_suggestions_raises_and_overrides():
    ticket = answers(users_affected="many", frequency="always", urgency="normal", deadline="2026-11-03",
                     priority=4, priority_overridden=True, actionable="yes", acknowledged=True)
    rows = {row.field: row for row in triage.panel_rows(ticket, WINDOWS, TODAY)}
    assert rows["impact"].answer == "missing (questions suggest high)"
    assert rows["urgency"].answer == "normal -> immediate (event 2026-11-03)" and not rows["urgency"].missing
    assert rows["priority"].answer == "P4 (override)"
    ticket.impact = "high"
    rows = {row.field: row for row in triage.panel_rows(ticket, WINDOWS, TODAY)}
    assert rows["priority"].answer == "P4 (override; matrix says P1)"
    assert not any(row.missing for row in rows.values())
