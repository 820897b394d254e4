"""Every config value the check accepts works later; the ones that would not are refused at load (issue 22.5).

A template that cannot render, a width that costs hundreds of megabytes per mail, a
duration that overflows a date, a number without an upper bound: each is refused
with the file, the line and the key, by every command (exit 2, one line). A file at
the bounds runs a move, the roster and a report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "config.yaml").read_text(encoding="utf-8")
RETRY_END = "    max_delay: 6h\n"


def templates(status: str = "", footer: str = "") -> tuple[str, str]:
    """A replacement adding `notify.templates` after the retry settings."""
    text = RETRY_END + "  templates:\n"
    if status:
        text += f"    status:\n      {status}\n"
    if footer:
        text += f"    footer: {footer!r}\n"
    return RETRY_END, text


REFUSED = [
    # (replace, by, the line's needle, key, words)
    (*templates(status='subject: "[{key}] {title:d}"'), "{title:d}", "notify.templates.status.subject",
     "Unknown format code 'd'"),
    (*templates(status='body: "{title!z}\\n{footer}"'), "{title!z}", "notify.templates.status.body",
     "unknown conversion"),
    (*templates(status='subject: "{title:>300000000}"'), "300000000", "notify.templates.status.subject",
     "at most 1000"),
    (*templates(footer="{key:.2000}"), "footer:", "notify.templates.footer", "at most 1000"),
    (*templates(status='subject: "{title:,}"'), "{title:,}", "notify.templates.status.subject",
     "cannot be rendered"),
    ("    shift: 1w                    # Nd or Nw", "    shift: 99999999999999999999w", "99999999999999999999w",
     "rotations[0].shift", "maximum of ten years"),
    ("after: 15m", "after: 3654d", "3654d", "escalation[1].after", "maximum of ten years"),
    ("after: 30m", "after: 10400 working hours", "10400 working hours", "escalation[2].after",
     "five years of this calendar"),
    ("first_response: 1 working day ", "first_response: 1300 working days ", "1300 working days",
     "sla.first_response", "at most 1299 working days"),
    ("cycle: 2w ", "cycle: 522w ", "522w", "report.cycle", "maximum of ten years"),
    ("wip_limit: 5}", "wip_limit: 10001}", "10001", "workflow.columns[2].wip_limit", "at most 10000"),
    ("max_attempts: 8 ", "max_attempts: 1001 ", "1001", "notify.retry.max_attempts", "at most 1000"),
    ("max_delay: 6h", "max_delay: 3654d", "3654d", "notify.retry.max_delay", "maximum of ten years"),
    ("    starttls: false", "    timeout: 301\n    starttls: false", "timeout: 301", "notify.smtp.timeout",
     "between 0 and 300"),
    ("from: 2026-12-21T09:00", "from: 0001-01-01T00:00", "0001-01-01", "overrides[0].from",
     "not between 1970 and 2999"),
    ("start: 2026-11-02            # the first handoff", "start: 9999-12-01 #", "9999-12-01", "rotations[0].start",
     "not between 1970 and 2999"),
    ("start: 2026-11-02              # the first day", "start: 0001-01-01 #", "0001-01-01", "report.start",
     "not between 1970 and 2999"),
]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def assert_refused(result, path: Path, line: int, key: str, words: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    where = f"triageboard: {path}:{line}: {key}: " if key else f"triageboard: {path}:{line}: "
    assert result.stderr.startswith(where), result.stderr
    assert words in result.stderr, result.stderr


@pytest.mark.parametrize("replace, by, needle, key, words", REFUSED, ids=[r[3] + ":" + r[2] for r in REFUSED])
def test_a_value_that_would_break_later_is_refused_with_file_line_and_key(tmp_path, run_cli, replace, by, needle,
                                                                         key, words):
    assert replace in BASE
    text = BASE.replace(replace, by, 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    for command in (["oncall"], ["move", "SET-1", "closed"]):
        assert_refused(run_cli(*command, config=path), path, line_of(text, needle), key, words)


def test_a_nul_byte_names_its_line(tmp_path, run_cli):
    text = BASE.replace("timezone: Europe/London", "timezone: Europe/London\x00", 1)
    assert text != BASE
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert_refused(run_cli("report", config=path), path, line_of(text, "\x00"), "", "control character")


NEAR_BOUNDS = [
    ("    shift: 1w                    # Nd or Nw", "    shift: 521w"),
    ("shift: 2w                    # leads", "shift: 3653d                    # leads"),
    ("after: 15m", "after: 3653d"),
    ("after: 30m", "after: 10392 working hours"),
    ("first_response: 1 working day ", "first_response: 1299 working days "),
    ("update_every: 2 working days ", "update_every: 1299 working days "),
    ("P1: {first_response: 1 working hour, update_every: 4 working hours}",
     "P1: {first_response: 10392 working hours, update_every: 1299 working days}"),
    ("cycle: 2w ", "cycle: 521w "),
    ("stale_after: 5 working days", "stale_after: 1299 working days"),
    ("event_window: 3d", "event_window: 3653d"),
    ("soon_window: 2w", "soon_window: 3653d"),
    ("wip_limit: 5}", "wip_limit: 10000}"),
    ("from: 2026-12-21T09:00, to: 2026-12-28T09:00", "from: 1970-01-01T00:00, to: 2999-12-31T23:59"),
    ("start: 2026-11-02            # the first handoff", "start: 2999-12-01 #"),
    ("start: 2026-11-02              # the first day", "start: 1970-01-01 #"),
    ("max_attempts: 8 ", "max_attempts: 1000 "),
    ("backoff: 1m ", "backoff: 3653d "),
    ("    starttls: false", "    timeout: 300\n    starttls: false"),
    (RETRY_END, templates(status='subject: "[{key!r:>1000}] {title:.1000} {after:^1000}"\n'
                                 '      body: "{title!a:>1000} {reason:<1000}\\n{footer}"',
                          footer="{key:>1000}")[1]),
    ("max_delay: 6h", "max_delay: 3653d"),
]


def test_a_config_at_the_bounds_runs_a_move_the_roster_and_a_report(tmp_path, run_cli):
    text = BASE
    for old, new in NEAR_BOUNDS:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    def ok(*args: str) -> str:
        result = run_cli(*args, config=path, now="2026-12-02T10:00")
        assert result.returncode == 0 and "Traceback" not in result.stderr, result
        return result.stdout

    assert ok("ticket", "add", "Login loops", "--requester", "rita@example.org", "--priority", "P1",
              "--kind", "incident", "--by", "alice").strip() == "SET-1"
    assert "todo -> closed" in ok("move", "SET-1", "closed", "--by", "alice")  # mails the requester
    assert "SET primary" in ok("oncall")
    assert "the current cycle is 5" in ok("report")  # 521w cycles from 1970-01-01
    ok("escalate", "--once")
    ok("remind", "--once")
    assert "Released" in ok("ticket", "list")
