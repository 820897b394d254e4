"""The live calendar feed (#17, item 3) fetched over HTTP from `triageboard calendar`, parsed with icalendar,
and compared with `triageboard oncall --at` at many instants.

The repo's rotations plus the follow-the-sun pair (London and New York 07:00-19:00, each in its own
zone), a 200-day horizon from Tue 1 Dec 2026: the feed runs from 1 Nov 2026 to 19 Jun 2027, across
both zones' spring changes and the repo's December overrides.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from icalendar import Calendar

from app.config.settings import load_config
from app.oncall.roster import roster_rows

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T12:00:00+00:00"
SECRET = "feed-secret-for-tests-0123456789"
UTC = dt.timezone.utc
SUN = """\
  - name: EU primary
    members: [alice, bob]
    shift: 1d
    handoff: "07:00"
    start: 2027-03-01
    timezone: Europe/London
    active_hours: "07:00-19:00"
  - name: US primary
    members: [carol, dan]
    shift: 1d
    handoff: "07:00"
    start: 2027-03-01
    timezone: America/New_York
    active_hours: "07:00-19:00"
"""


def write_config(path: Path, revoked: str = "") -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("\noverrides:", "\n" + SUN + "overrides:", 1)
    text = text.replace("\nsla:", f"\ncalendar:\n  horizon: 200d\n  revoked: [{revoked}]\n\nsla:", 1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def feed_server(tmp_path, cli_command, cli_env):
    config = write_config(tmp_path / "config.yaml")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**cli_env, "TRIAGEBOARD_NOW": NOW, "TRIAGEBOARD_CALENDAR_SECRET": SECRET}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(cli_command(*args, config=config), env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)

    process = subprocess.Popen(cli_command("calendar", "--port", str(port), config=config), env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/calendar/x.ics", timeout=1)
        except urllib.error.HTTPError:
            break  # the server answers (a 404 for a made-up token)
        except OSError:
            time.sleep(0.1)
    yield base, cli, config
    process.terminate()
    process.wait(timeout=10)


def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def token(cli, *args: str) -> dict:
    result = cli("calendar", "token", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def duty(body: bytes) -> list[tuple[str, str, dt.datetime, dt.datetime, str]]:
    """(rotation, member, start, end, uid) per event; the summary is "rotation: member[ (covering x)]"."""
    events = []
    for event in Calendar.from_ical(body).walk("VEVENT"):
        assert str(event["TRANSP"]) == "TRANSPARENT"
        rotation, _, who = str(event["SUMMARY"]).partition(": ")
        events.append((rotation, who.split(" (covering ")[0], event.decoded("DTSTART").astimezone(UTC),
                       event.decoded("DTEND").astimezone(UTC), str(event["UID"])))
    return events


def holders(events, rotation: str, instant: dt.datetime) -> set[str]:
    return {m for r, m, start, end, _ in events if r == rotation and start <= instant < end}


def instants() -> list[dt.datetime]:
    """Every 7h 13m across the window, plus the edges of the overrides and the four clock changes' days."""
    found, t = [], dt.datetime(2026, 11, 1, 3, tzinfo=UTC)
    while t < dt.datetime(2027, 6, 18, tzinfo=UTC):
        found.append(t)
        t += dt.timedelta(hours=7, minutes=13)
    found += [dt.datetime(2026, 12, 21, 9, tzinfo=UTC), dt.datetime(2026, 12, 28, 8, 59, tzinfo=UTC),
              dt.datetime(2026, 12, 24, 0, tzinfo=UTC), dt.datetime(2027, 3, 14, 11, 30, tzinfo=UTC),
              dt.datetime(2027, 3, 15, 11, 30, tzinfo=UTC), dt.datetime(2027, 3, 29, 6, 30, tzinfo=UTC),
              dt.datetime(2027, 3, 29, 8, 0, tzinfo=UTC), dt.datetime(2027, 3, 29, 18, 30, tzinfo=UTC)]
    return found


def test_team_feed_matches_oncall_at_many_instants(feed_server):
    base, cli, config_path = feed_server
    status, headers, body = fetch(base + token(cli)["path"])
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/calendar")
    events = duty(body)
    config = load_config(config_path)
    for instant in instants():
        for row in roster_rows(config.oncall, instant):
            assert holders(events, row.rotation, instant) == set(row.on_duty), (row.rotation, instant)
    # And against the command itself, as a script would ask it.
    for instant in instants()[::190] + instants()[-8:]:  # a subprocess each: the edges, and a few others
        result = cli("oncall", "--at", instant.isoformat(), "--json")
        assert result.returncode == 0, result.stderr
        for rotation, members in json.loads(result.stdout)["rotations"].items():
            assert holders(events, rotation, instant) == set(members), (rotation, instant)
    # The override is its own event: bob covering dan's primary week, 21 to 28 Dec 09:00 GMT.
    covers = [e for e in Calendar.from_ical(body).walk("VEVENT") if "covering" in str(e["SUMMARY"])]
    assert ("SET primary: bob (covering dan)", dt.datetime(2026, 12, 21, 9, tzinfo=UTC),
            dt.datetime(2026, 12, 28, 9, tzinfo=UTC)) in [
        (str(e["SUMMARY"]), e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC)) for e in covers]
    # The horizon: nothing starts on or after 19 Jun 2027 (1 Dec + 200 days), something in its last week.
    starts = [start for _, _, start, _, _ in events]
    assert max(starts) < dt.datetime(2027, 6, 19, tzinfo=UTC) <= max(starts) + dt.timedelta(days=7)


def test_member_feed_stable_uids_etag_and_last_modified(feed_server):
    base, cli, _ = feed_server
    url = base + token(cli, "--member", "bob")["path"]
    status, headers, body = fetch(url)
    assert status == 200
    events = duty(body)
    assert events and {m for _, m, *_ in events} == {"bob"}
    _, again_headers, again = fetch(url)
    assert [e[4] for e in duty(again)] == [e[4] for e in events]   # stable UIDs
    assert len({e[4] for e in events}) == len(events)
    assert again_headers["ETag"] == headers["ETag"]
    assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(url, {"If-None-Match": '"something-else"'})[0] == 200


def test_bad_and_revoked_tokens_get_404(feed_server):
    base, cli, config_path = feed_server
    issued = token(cli)
    assert fetch(base + issued["path"])[0] == 200
    path = issued["path"]
    assert fetch(base + path.replace(".ics", "x.ics"))[0] == 404       # a tampered signature
    assert fetch(base + "/calendar/not-a-token.ics")[0] == 404
    time.sleep(0.05)
    write_config(config_path, revoked=issued["id"])                     # revoked: the next poll is refused
    os.utime(config_path, (time.time() + 5, time.time() + 5))
    assert fetch(base + path)[0] == 404
    assert fetch(base + token(cli)["path"])[0] == 200                   # other tokens still work


def test_calendar_refuses_without_a_secret_and_a_horizon_past_two_years(run_cli, tmp_path):
    config = write_config(tmp_path / "config.yaml")
    result = run_cli("calendar", "token", config=config)
    assert result.returncode == 2 and "TRIAGEBOARD_CALENDAR_SECRET" in result.stderr
    config.write_text(config.read_text().replace("horizon: 200d", "horizon: 800d"))
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "horizon: 800d" in text)
    result = run_cli("oncall", "--json", config=config)
    assert result.returncode == 2
    assert f"{config}:{line}: calendar.horizon:" in result.stderr
