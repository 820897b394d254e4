"""Time from process start to the first painted board, and peak memory, against an empty Textual app.

    python bench/bench_startup.py [--db sqlite:////tmp/bench.db | --count 1000000] [--runs 5]

Without `--db`, bench/seed.py's cached board of `--count` tickets (default a million).

Each run spawns a fresh interpreter (`--child board` or `--child empty`) that
runs its app headless at 160x45 and exits once the first frame showing the
whole app has been written to the terminal driver (`App._display`): for the
board, a frame with its columns, its status line and its line of keys (a
first frame still waiting for one of them would flatter the figure; Textual's
`Footer`, for one, fills in a frame later). The board child starts the way a
user does (`triageboard --db URL`, through `app.cli.launch.main`: the command
line, the config, the database, then the board). The child prints its time
since process start (from /proc, so interpreter start-up and imports count);
the parent reads the child's peak RSS from `os.wait4`. Both apps are
measured alternately in the same run, so machine load hits both.

The project's modules are byte-compiled first (`compileall`), as `pip
install` does for an installed package and as Python does on a user's first
run: otherwise a machine with PYTHONDONTWRITEBYTECODE set (CI, containers)
would time the compiler on every run, which no user's second start pays.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def since_process_start() -> float:
    """Seconds since this process started, from /proc (Linux)."""
    with open("/proc/self/stat") as stat:
        started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as uptime:
        now = float(uptime.read().split()[0])
    return now - started_ticks / os.sysconf("SC_CLK_TCK")


def child(kind: str, db_url: str) -> None:
    wall_start = time.time() - since_process_start()
    from textual.app import App

    display = App._display

    def displayed(app, screen, update) -> None:
        """Stamp the first frame written to the terminal that shows the whole app: for the board, its
        columns, its status line and its keys (a frame still missing a line would flatter the figure)."""
        display(app, screen, update)
        if getattr(app, "_bench_painted", False):
            return
        if kind == "board":
            lines = [strip.text.strip() for strip in screen._compositor.render_strips()]
            if not (lines[-1] and lines[-2] and "╭" in lines[1]):
                return
        app._bench_painted = True
        print(f"painted {time.time() - wall_start:.4f}", flush=True)
        app.exit()

    # The hooks go on Textual's App, which the board inherits: importing the board's own modules
    # here would run them before `main` has made its start-up choices (the collector, the
    # PostgreSQL driver).
    App._display = displayed  # type: ignore[method-assign]
    App.run = functools.partialmethod(App.run, headless=True, size=(160, 45))  # type: ignore
    if kind == "board":
        # The real entry point: `triageboard --config config.yaml --db URL`, as a user starts it,
        # headless at the empty app's size.
        sys.path.insert(0, str(ROOT))
        from app.cli.launch import main  # the `triageboard` console script

        main(["--config", str(ROOT / "config.yaml"), "--db", db_url])
        return

    class Empty(App):
        pass

    Empty().run()


def measure(kind: str, db_url: str) -> tuple[float, float]:
    """(seconds to first paint, peak RSS in MB) of one fresh process."""
    process = subprocess.Popen([sys.executable, __file__, "--child", kind, "--db", db_url],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or "painted" not in output:
        raise SystemExit(f"{kind} child failed ({process.returncode}): {output}")
    seconds = float(output.split("painted", 1)[1].split()[0])
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=("board", "empty"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results import result
    from seed import cached

    size = "" if args.db else f" ({args.count:,} tickets)"
    args.db = args.db or f"sqlite:///{cached(args.count)}"
    for package in ("app", "data", "widgets"):
        compileall.compile_dir(ROOT / package, quiet=1)
    results: dict[str, list[tuple[float, float]]] = {"empty": [], "board": []}
    measure("empty", args.db)  # warm the file cache for both
    measure("board", args.db)
    for _ in range(args.runs):
        for kind in ("empty", "board"):
            results[kind].append(measure(kind, args.db))
    paint = {kind: statistics.median(t for t, _ in runs) for kind, runs in results.items()}
    rss = {kind: max(m for _, m in runs) for kind, runs in results.items()}
    for kind in ("empty", "board"):
        print(f"{kind:>5}: first paint median {paint[kind] * 1000:7.0f} ms   peak RSS {rss[kind]:6.1f} MB"
              f"   (runs: {', '.join(f'{t * 1000:.0f}' for t, _ in results[kind])} ms)")
    ratio = paint["board"] / paint["empty"]
    print(f"ratio board/empty: first paint {ratio:.2f}x (target <= 1.5x), "
          f"RSS {rss['board'] / rss['empty']:.2f}x; board peak RSS {rss['board']:.1f} MB (target < 150 MB)")
    result(f"first paint{size}", f"{paint['board'] * 1000:.0f} ms = {ratio:.2f}x",
           f"{paint['empty'] * 1000:.0f} ms empty Textual app", "<= 1.5x", ratio <= 1.5)
    result(f"first paint peak RSS{size}", f"{rss['board']:.1f} MB", f"{rss['empty']:.1f} MB empty Textual app",
           "< 150 MB", rss["board"] < 150)


if __name__ == "__main__":
    main()
