"""The board and `ticket show` in a real terminal (tmux) on tickets whose titles carry terminal controls.

A raw OSC 0 would set the pane's title to "pwned", a raw CSI 2J would wipe the
board, a raw OSC 8 would plant a link, U+202E would reverse the line: the pane
keeps its title and shows the board's columns and the escaped text. Each test
starts its own tmux server (`tmux -L <unique socket>`) and kills it afterwards.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TITLES = ["clear\x1b[2Jscreen", "osc\x1b]0;pwned\x07title", "link \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\",
          "rtl \u202eabc"]
PANE_TITLE = "triageboard-test"


@pytest.fixture
def tmux():
    socket = f"tb-{uuid.uuid4().hex[:10]}"

    def run(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args], capture_output=True, text=True,
                              check=True, timeout=10).stdout

    run.socket = socket
    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def start(tmux, command: list[str], env: dict[str, str]) -> None:
    """Run `command` in a 160x45 pane whose title is set first; the command waits for that (a wait-for
    channel), so whatever it writes is what could change the title."""
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    line = (f"tmux -L {tmux.socket} wait-for go; env -u COLUMNS -u LINES {exports} {shlex.join(command)}; "
            f"tmux -L {tmux.socket} wait-for -S finished; sleep 60")
    for attempt in range(50):  # a server killed just before may still hold its socket for a moment
        try:
            tmux("new-session", "-d", "-x", "160", "-y", "45", "sh", "-c", line)
            break
        except subprocess.CalledProcessError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    tmux("select-pane", "-T", PANE_TITLE)
    tmux("wait-for", "-S", "go")


def screen_when(tmux, *wanted: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        screen = tmux("capture-pane", "-p")
        if all(text in screen for text in wanted) or time.monotonic() > deadline:
            return screen
        time.sleep(0.1)


def test_the_board_and_ticket_show_keep_the_pane_title_and_the_layout(tmux, run_cli, cli_command, cli_env):
    keys = []
    for title in TITLES:
        added = run_cli("ticket", "add", title)
        assert added.returncode == 0, added.stderr
        keys.append(added.stdout.strip())
    env = {name: cli_env[name] for name in ("PYTHONPATH", "TRIAGEBOARD_USER", "TRIAGEBOARD_CACHE") if name in cli_env}
    env["TERM"] = "xterm-256color"

    start(tmux, cli_command(), env)
    screen = screen_when(tmux, "To Do", "Ready", "Resolved", "clear␛[2J", "osc␛]0;pwned␇")
    assert all(f"─ {name} " in screen for name in ("To Do", "Ready", "Resolved")), screen
    assert "clear␛[2J" in screen and "osc␛]0;pwned␇" in screen and "link ␛]8;;" in screen, screen
    assert "rtl \\u202eabc" in screen, screen
    assert tmux("display", "-p", "#{pane_title}").strip() == PANE_TITLE
    tmux("send-keys", "q")
    tmux("wait-for", "finished")
    tmux("kill-server")

    start(tmux, cli_command("ticket", "show", keys[1]), env)
    tmux("wait-for", "finished")
    screen = screen_when(tmux, "osc␛]0;pwned␇title")
    assert "osc␛]0;pwned␇title" in screen, screen
    assert tmux("display", "-p", "#{pane_title}").strip() == PANE_TITLE
