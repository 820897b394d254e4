"""Typed configuration, loaded once from `config.yaml` into frozen structs (msgspec).

The file is the lead's: written by hand, kept for years. So every key is
checked, an unknown key is an error rather than a silent no-op, and every
error names the file, the line and the key (`ConfigError`). Each section that
belongs to a capability (rotations, SLA, notifications, …) is parsed by a
function beside that capability's rules; this module ties them together.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from app.reports.cycles import ReportSettings, parse_report
from app.notify.settings import NotifyConfig, parse_notify
from app.notify.intake_settings import IntakeConfig, parse_intake
from app.oncall.settings import OnCall, parse_oncall
from app.sla.settings import SlaPolicy, parse_sla
from app.triage.rules import TriageConfig, parse_triage_config
from app.board.workflow import HOLD_REASONS, WIP_POLICIES, Column, Workflow
from app.config.serve import ServeConfig, parse_serve
from app.config.yamlnodes import LineDict, Section

TOP_LEVEL_KEYS = ("board", "services", "team", "workflow", "rotations", "overrides", "escalation",
                  "escalation_ack_timeout", "calendar", "sla", "triage", "notify", "report", "keys", "intake",
                  "serve")

DEFAULT_CONFIG = "config.yaml"
MAX_WIP_LIMIT = 10_000
KINDS = ("incident", "escalation", "bug", "question", "feature")


class Member(msgspec.Struct, frozen=True):
    """A person on the team: the handle used everywhere else in the file."""

    handle: str
    name: str
    email: str
    available: bool = True
    """False while someone is away: fair assignment skips them."""


class Board(msgspec.Struct, frozen=True):
    key: str
    """Ticket key prefix: SET makes SET-1, SET-2, …"""
    timezone: str
    """IANA zone name; every wall-clock time in the file is read in it."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# A dataclass, not a msgspec struct: `deferred_checks` stays out of `==` and the repr
# (compare=False, repr=False), which msgspec cannot do per field.
@dataclass(frozen=True)
class Config:
    path: Path
    board: Board
    services: tuple[str, ...]
    team: tuple[Member, ...]
    workflow: Workflow
    sections: Mapping[str, Section] = field(default_factory=dict)
    """Raw sections for capabilities that parse their own part of the file."""
    oncall: OnCall = field(default_factory=OnCall)
    """Rotations, overrides and escalation steps (app/oncall/settings.py)."""
    sla: SlaPolicy | None = None
    """Response targets and the business calendar (`sla:`); always set by `load_config`."""
    report: ReportSettings = field(default_factory=ReportSettings)
    """Cycles, stale threshold and work-type defaults for the reports (`report:`)."""
    triage: TriageConfig = field(default_factory=TriageConfig)
    """The priority matrix and event windows (`triage:`; see app.triage.rules)."""
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    """Mail server, webhook, retries and templates (`notify:`; defaults when absent)."""
    intake: IntakeConfig | None = None
    """Tickets from e-mail and the IMAP mailbox (`intake:`); None: mail that is no reply is refused."""
    serve: ServeConfig = field(default_factory=ServeConfig)
    """Login for `triageboard serve` and the requesters' links (`serve:`; app/config/serve.py)."""
    deferred_checks: tuple[Callable[[], None], ...] = field(default=(), compare=False, repr=False)
    """Checks `load_config(defer_checks=True)` postponed; `run_deferred_checks` runs them."""

    def run_deferred_checks(self) -> None:
        """Run the postponed checks: `ConfigError` (file, line, key) if one fails."""
        for check in self.deferred_checks:
            check()

    def member(self, handle: str) -> Member | None:
        for member in self.team:
            if member.handle == handle:
                return member
        return None

    @property
    def handles(self) -> tuple[str, ...]:
        return tuple(m.handle for m in self.team)

    @property
    def db_default(self) -> str:
        """An SQLite file beside the config: solo use needs no set-up."""
        return f"sqlite:///{self.path.parent.resolve() / 'triageboard.db'}"


def resolve_config_path(option: str | None = None) -> Path:
    return Path(option or os.environ.get("TRIAGEBOARD_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None, *, defer_checks: bool = False) -> Config:
    """Load and validate the configuration, raising `ConfigError` on the first problem.

    `defer_checks` postpones the checks that cost imports rather than reading
    (the holiday region, checked against the holidays library) into
    `Config.deferred_checks`: the board paints first and runs them right after.
    """
    deferred: list[Callable[[], None]] | None = [] if defer_checks else None
    path = resolve_config_path(str(path) if path else None)
    root = Section.root(path)
    root.only(*TOP_LEVEL_KEYS)
    board = _parse_board(root.section("board", required=True))
    services = _parse_services(root)
    team = _parse_team(root)
    workflow = _parse_workflow(root.section("workflow", required=True))
    sections = {name: sub for name in TOP_LEVEL_KEYS if name in root
                and (sub := _maybe_section(root, name)) is not None}
    sla = parse_sla(root.section("sla"), board.tz, deferred)
    report = parse_report(root.section("report"), kinds=KINDS, has_calendar=sla is not None,
                          fits=sla.calendar.check_fits)
    triage = parse_triage_config(root.section("triage"))
    notify = parse_notify(root.section("notify"))
    intake = parse_intake(root.section("intake"), path, services, KINDS)
    serve = parse_serve(root.section("serve"), Path(path).parent)
    config = Config(path=path, board=board, services=services, team=team, workflow=workflow, sections=sections,
                    sla=sla, report=report, triage=triage, notify=notify, intake=intake, serve=serve,
                    deferred_checks=tuple(deferred or ()))
    # Capability parsers that need the team and the time zone run on the built config.
    config = replace(config, oncall=parse_oncall(sections, set(config.handles), board.timezone,
                                                 sla.calendar.check_fits if sla else lambda d: d))
    return config


def _maybe_section(root: Section, name: str) -> Section | None:
    value = root.data.get(name)
    if isinstance(value, LineDict):
        return Section(root.path, name, value)
    if value is None:
        return None
    # Lists (rotations, overrides, escalation) are wrapped so parsers can use items().
    wrapper = LineDict({name: value})
    wrapper.line = root.line_of(name)
    wrapper.key_lines = {name: root.line_of(name)}
    return Section(root.path, "", wrapper)


_KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
_HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_COLUMN_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/London)") from None
    return name


def _parse_board(section: Section) -> Board:
    section.only("key", "timezone")

    def ticket_key(value: str) -> str:
        if not _KEY_RE.match(value):
            raise ValueError(f"{value!r} is not a ticket key prefix (capital letters and digits, e.g. SET)")
        return value

    return Board(key=section.require("key", str, convert=ticket_key),
                 timezone=section.get("timezone", str, "UTC", convert=_timezone))


def _parse_services(root: Section) -> tuple[str, ...]:
    services: list[str] = []
    for index, value, _, _ in root.items("services"):
        if not isinstance(value, str) or not value.strip():
            raise root.item_error("services", index, f"a service is a name, got {value!r}")
        if value in services:
            raise root.item_error("services", index, f"service {value!r} is listed twice")
        services.append(value)
    return tuple(services)


def _parse_team(root: Section) -> tuple[Member, ...]:
    members: list[Member] = []
    for index, _, item, line in root.items("team", required=True):
        if item is None:
            raise root.item_error("team", index, "a member is a mapping {handle, name, email}")
        item.only("handle", "name", "email", "available")
        handle = item.require("handle", str)
        if not _HANDLE_RE.match(handle):
            raise item.fail("handle", f"{handle!r} is not a handle (lower-case letters, digits, _ . -)")
        if any(m.handle == handle for m in members):
            raise item.fail("handle", f"handle {handle!r} is listed twice")
        email = item.require("email", str)
        if not _EMAIL_RE.match(email):
            raise item.fail("email", f"{email!r} is not an e-mail address")
        members.append(Member(handle=handle, name=item.get("name", str, handle), email=email,
                              available=item.get("available", bool, True)))
    if not members:
        raise root.fail("team", "the team needs at least one member")
    return tuple(members)


def _parse_workflow(section: Section) -> Workflow:
    section.only("columns", "transitions", "wip_policy", "reasons", "triage_gate")
    columns: list[Column] = []
    for index, _, item, _ in section.items("columns", required=True):
        if item is None:
            raise section.item_error("columns", index, "a column is a mapping {key, title, support_status}")
        item.only("key", "title", "support_status", "wip_limit", "collapsed")
        key = item.require("key", str)
        if not _COLUMN_RE.match(key):
            raise item.fail("key", f"{key!r} is not a column key (lower-case letters, digits and _)")
        if any(c.key == key for c in columns):
            raise item.fail("key", f"column {key!r} is listed twice")
        status: Any = item.require("support_status", (str, LineDict))
        if isinstance(status, LineDict):
            sub = item.section("support_status")
            sub.only(*HOLD_REASONS)
            for reason in HOLD_REASONS:
                sub.require(reason, str)
            status = {reason: str(status[reason]) for reason in HOLD_REASONS}
        limit = item.get("wip_limit", int)
        if limit is not None and not 1 <= limit <= MAX_WIP_LIMIT:
            raise item.fail("wip_limit", f"a WIP limit is a whole number of at least 1 and at most {MAX_WIP_LIMIT}")
        columns.append(Column(key=key, title=item.get("title", str, key), support_status=status, wip_limit=limit,
                              collapsed=bool(item.get("collapsed", bool, False))))
    if len(columns) < 2:
        raise section.fail("columns", "a workflow needs at least two columns")
    keys = [c.key for c in columns]

    transitions: dict[str, tuple[str, ...]] = {}
    trans = section.section("transitions", required=True)
    for source, targets in trans.data.items():
        source = str(source)
        if source not in keys:
            raise trans.fail(source, f"unknown column {source!r} (columns: {', '.join(keys)})")
        if not isinstance(targets, list):
            raise trans.fail(source, f"expected a list of columns, got {targets!r}")
        for target in targets:
            if target not in keys:
                raise trans.fail(source, f"unknown column {target!r} (columns: {', '.join(keys)})")
            if target == source:
                raise trans.fail(source, "a column cannot transition to itself")
        transitions[source] = tuple(targets)

    policy = section.get("wip_policy", str, "refuse")
    if policy not in WIP_POLICIES:
        raise section.fail("wip_policy", f"expected one of {', '.join(WIP_POLICIES)}, got {policy!r}")

    reasons: dict[tuple[str, str], str] = {}
    for name, reason in section.mapping("reasons"):
        parts = [p.strip() for p in name.split("->")]
        sub = section.section("reasons")
        if len(parts) != 2 or any(p not in keys for p in parts):
            raise sub.fail(name, f"expected 'from -> to' with column keys, got {name!r}")
        if not isinstance(reason, str):
            raise sub.fail(name, f"a reason is text, got {reason!r}")
        reasons[(parts[0], parts[1])] = reason
    if "reasons" not in section:
        reasons = {pair: text for pair, text in _DEFAULT_REASONS.items() if set(pair) <= set(keys)}

    gate = section.get("triage_gate", list, None)
    if gate is None:
        gate = [keys[1]] if len(keys) > 1 else []
    for target in gate:
        if target not in keys:
            raise section.fail("triage_gate", f"unknown column {target!r} (columns: {', '.join(keys)})")
    return Workflow(columns=tuple(columns), transitions=transitions, wip_policy=policy,
                    reasons=reasons, triage_gate=tuple(gate))


_DEFAULT_REASONS = {
    ("resolved", "in_progress"): "not fixed",
    ("closed", "in_progress"): "reopened",
    ("todo", "closed"): "solved by support",
}
