"""Team mode at scale: from a move's commit to its repaint on nine other open boards, on PostgreSQL.

    python bench/bench_team.py [--pg postgresql://postgres@127.0.0.1:5432/test] [--count 1000000]
                               [--boards 10] [--moves 50] [--baseline 100]

Ten real board processes (`TriageApp` headless, `App.run_test()`, one
Python process each) open the same PostgreSQL schema. Board 0 moves one card
with the keys a user presses (H: Ready -> To Do, L: back), as
`bench/bench_move.py` does; the commit instant is `time.time()` taken in its
move worker right after `Service.move` returned (the COMMIT done). Each of the
other nine stamps `time.time()` at the end of the first screen refresh that
painted the card, at its new version, in its new column (the columns'
`_line_key` says which card a painted line shows). All processes are on this
machine, so the wall clock is shared. The driver waits for the nine paints
(or 5 s) and a quiet moment before the next move, so every figure is one move
heard by nine boards at once, not a queue of them.

The seeded card is the only one of the top work class and priority (every other
ticket sorts after it), so it lands at the top of the column it enters and
every board has it in view. The 1,000,000-ticket schema (`bench_team_1m`) is
seeded once with COPY (rows from `bench/seed.py`'s generator, a "create"
history row each) and reused while its marker comment (the count and
bench/seed.py's `schema_version`, the migrations' hash) matches. The stored
SLA due instants are left empty: `sla rebuild` of its 650,000 open tickets
ran at about 200 a second on PostgreSQL here (most of an hour), and a move's
repaint does not read them. The baseline,
the same measurement on a board of 100 tickets (`bench_team_base`), is seeded
afresh in every run.

The machine has 2 cores: ten Textual processes and the server share them, which
is the condition asked for, and the figures carry it.

`rows()` gives the figures as (figure, measured, baseline, target, met) for
`bench/run_all.py`; `met` is None for a figure without a target.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import result  # noqa: E402

PG_DEFAULT = os.environ.get("TRIAGEBOARD_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONFIG = ROOT / "config.yaml"
BIG_SCHEMA = "bench_team_1m"
BASE_SCHEMA = "bench_team_base"
SEED_MARK = "bench_team v1"
"""Changed whenever the seeded data changes shape, so a cached schema of an older shape is seeded again."""
CARD = 5
"""The number of the card board 0 moves (1-4 are In Progress in `bench.seed.rows`)."""
TARGET_MS = 300.0


def with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


# -- seeding -------------------------------------------------------------------


def _copy_text(values) -> str:
    """One row in COPY's text format."""
    out = []
    for value in values:
        if value is None:
            out.append(r"\N")
        elif isinstance(value, bool):
            out.append("t" if value else "f")
        elif isinstance(value, dt.datetime):
            out.append(value.isoformat(" "))
        else:
            out.append(str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " "))
    return "\t".join(out) + "\n"


class _Stream(io.TextIOBase):
    """A file COPY reads from, filled from a row generator as it asks: 1M rows are never held at once."""

    def __init__(self, lines) -> None:
        self._lines = iter(lines)
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._buffer) < size:
            chunk = "".join(line for _, line in zip(range(2000), self._lines))
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    readline = read


def ensure_schema(admin_url: str, schema: str, count: int, *, fresh: bool = False) -> str:
    """The URL of `schema` holding `count` seeded tickets: reused when its marker says so, else seeded now."""
    import psycopg2
    from playhouse.db_url import parse

    from seed import schema_version

    mark = f"{SEED_MARK} {count} {schema_version()}"  # a schema made by older migrations is seeded again
    admin = psycopg2.connect(**parse(admin_url))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", (schema,))
        found = cur.fetchone()
        if found is not None and found[0] == mark and not fresh:
            admin.close()
            return with_schema(admin_url, schema)
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
    admin.close()
    url = with_schema(admin_url, schema)
    begun = time.perf_counter()
    _seed(url, count)
    with psycopg2.connect(**parse(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(f"COMMENT ON SCHEMA \"{schema}\" IS %s", (mark,))
    print(f"seeded {count:,} tickets into schema {schema} in {time.perf_counter() - begun:.0f} s", flush=True)
    return url


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _seed(url: str, count: int) -> None:
    from app.board.ordering import sort_key
    from app.board.workflow import support_status
    from app.config.settings import load_config
    from data.db import open_database
    from data.models import History, Ticket, database_proxy

    from seed import rows  # bench/seed.py's tickets, so every benchmark's board looks alike

    config = load_config(CONFIG)
    db = open_database(url)  # the migrations make the schema, exactly as a board's first start does
    top = sort_key("incident", None, 1)
    fields = [f for f in Ticket._meta.sorted_fields if f.name != "id"]
    defaults = {f.column_name: (f.default() if callable(f.default) else f.default)
                for f in fields if f.default is not None}

    def tickets():
        for n, row in enumerate(rows(config, count), 1):
            if n == CARD:  # the moved card: the one ticket of the top sort key, triaged, in Ready
                row.update(state="ready", kind="incident", bug_class=None, priority=1, hold_reason=None,
                           sort_key=top)
            elif row["sort_key"] <= top:  # everyone else sorts after it
                row.update(priority=2, sort_key=sort_key(row["kind"], row["bug_class"], 2))
            values = {**defaults, **row, "thread_token": f"{n:016x}"}
            yield n, values, _copy_text([n, *(values.get(f.column_name) for f in fields)])

    columns = ", ".join(["id", *(f.column_name for f in fields)])
    statuses = " ".join(
        f"WHEN state = '{column.key}' AND hold_reason IS NOT DISTINCT FROM {_literal(hold)} "
        f"THEN {_literal(support_status(config.workflow, column.key, hold))}"
        for column in config.workflow.columns for hold in (None, "requester", "external"))
    conn = db.connection()
    with db.atomic():
        cur = conn.cursor()
        cur.copy_expert(f"COPY ticket ({columns}) FROM STDIN", _Stream(line for _, _, line in tickets()))
        cur.execute('INSERT INTO history (ticket_id, at, "by", kind, to_state, status_after, reason, detail) '
                    f"SELECT id, created, 'bench', 'create', state, CASE {statuses} END, '', '' FROM ticket ORDER BY id")
        for table in (Ticket._meta.table_name, History._meta.table_name):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    db.execute_sql("ANALYZE ticket")
    db.execute_sql("ANALYZE history")
    database_proxy.obj.close()


# -- one board (a child process) -----------------------------------------------


def _say(*words) -> None:
    sys.stdout.write(" ".join(str(word) for word in words) + "\n")
    sys.stdout.flush()


async def board(url: str, name: str, mover: bool) -> None:
    """Open the board, report every first paint of the watched card (id, version, column), obey the driver."""
    from app.config.settings import load_config
    from app.tui.app import TriageApp
    from widgets.column import Column

    gc.disable()  # as `triageboard` starts (app.cli.launch): the app turns it back on after its first paint
    app = TriageApp(load_config(CONFIG), url, user=name)
    card_id = None
    painting: set[tuple[int, int, str]] = set()
    reported: set[tuple[int, int, str]] = set()
    lock = threading.Lock()
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.board
        await pilot.pause()
        for column in screen.query(Column):
            line_key = column._line_key

            def watched(y, view, line_key=line_key, state=column.state):
                key = line_key(y, view)
                if card_id is not None and key[0] == card_id:
                    painting.add((key[0], key[1], state))
                return key

            column._line_key = watched
        refresh = screen._compositor_refresh

        def compositor_refresh() -> None:
            refresh()
            if painting:
                now = time.time()
                for seen in painting - reported:
                    reported.add(seen)
                    _say("painted", *seen, repr(now), repr(phases["heard"]), repr(phases["applied"]))
                painting.clear()

        screen._compositor_refresh = compositor_refresh
        live = screen.live  # the phases: when the change reached the event loop, when its refresh was in hand
        phases = {"heard": 0.0, "applied": 0.0}
        changes_heard, live_applied = live.changes_heard, live.live_applied

        def heard(changes) -> None:
            if any(change.ticket_id == card_id for change in changes):
                phases["heard"] = time.time()
            changes_heard(changes)

        def applied(message) -> None:
            phases["applied"] = time.time()
            live_applied(message)

        live.changes_heard, live.live_applied = heard, applied
        if mover:
            service = app.service
            move = service.move

            def stamped(*args, **kwargs):
                result = move(*args, **kwargs)
                at = time.time()  # COMMIT has returned
                with lock:
                    _say("committed", result.ticket.id, result.ticket.version, result.ticket.state, repr(at))
                return result

            service.move = stamped
            await pilot.press("l")  # to Ready, whose top card is the one moved
            await pilot.pause()
        card = screen.column("ready").card_at(0)
        card_id = card.id if card is not None else None
        deadline = time.monotonic() + 60
        while (app.listener is None or not app.listener.running) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        _say("ready", card_id, app.listener is not None and app.listener.running)
        moves = 0
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line in ("", "quit"):
                break
            if line == "move" and mover:
                app.simulate_key("H" if moves % 2 == 0 else "L")
                moves += 1
    _say("bye")


# -- the driver ----------------------------------------------------------------


class Boards:
    """The board processes, and the lines they print, read in one thread."""

    def __init__(self, url: str, count: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGEBOARD_USER": ""}
        self.procs = [subprocess.Popen([sys.executable, __file__, "--board", url, "--name", f"board{n}"]
                                       + (["--mover"] if n == 0 else []),
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                       cwd=ROOT)
                      for n in range(count)]
        self.lines: list[tuple[int, list[str]]] = []
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(n, proc), daemon=True)
                         for n, proc in enumerate(self.procs)]
        for reader in self._readers:
            reader.start()

    def _read(self, n: int, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            with self._cond:
                self.lines.append((n, line.split()))
                self._cond.notify_all()

    def wait(self, until, timeout: float):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = until(self.lines)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def send(self, n: int, text: str) -> None:
        self.procs[n].stdin.write(text + "\n")
        self.procs[n].stdin.flush()

    def close(self) -> None:
        for n, proc in enumerate(self.procs):
            try:
                self.send(n, "quit")
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def reset_card(url: str) -> None:
    """Put the moved card back as seeded (in Ready, version 1, its "create" history row only).

    Every run adds two history rows per round trip, and reading a card's history (the SLA clocks,
    the toast naming who moved it) grows with it: a reused schema would be timed with a longer
    history than the baseline, which is seeded afresh.
    """
    import psycopg2
    from playhouse.db_url import parse

    with psycopg2.connect(**parse(url)) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM notification WHERE ticket_id = %s", (CARD,))
        cur.execute("DELETE FROM history WHERE ticket_id = %s AND kind <> 'create'", (CARD,))
        cur.execute("UPDATE ticket SET state = 'ready', version = 1, hold_reason = NULL WHERE id = %s", (CARD,))
    conn.close()


def measure(url: str, boards: int, moves: int) -> tuple[list[float], int, dict[str, list[float]]]:
    """Milliseconds from each commit to each other board's repaint, how many repaints never came (5 s), and
    the phases: from the commit to the change reaching each board's event loop, and to its refresh in hand."""
    phases: dict[str, list[float]] = {"heard": [], "applied": []}
    reset_card(url)
    started = time.perf_counter()
    group = Boards(url, boards)
    try:
        ready = group.wait(lambda lines: [words for _, words in lines if words[0] == "ready"]
                           if sum(words[0] == "ready" for _, words in lines) == boards else None, 180)
        if ready is None:
            raise SystemExit(f"the boards did not open: {group.lines}")
        if not all(words[2] == "True" for words in ready):
            raise SystemExit(f"a board has no listener: {ready}")
        if {words[1] for words in ready} != {str(CARD)}:
            raise SystemExit(f"the boards do not all show card {CARD} on top of Ready: {ready}")
        print(f"  {boards} boards open in {time.perf_counter() - started:.1f} s", flush=True)
        time.sleep(2.0)  # the boards' after-first-paint work (calendar, countdowns, at-risk snapshot)
        samples: list[float] = []
        missed = 0
        for _ in range(moves):
            mark = len(group.lines)
            group.send(0, "move")
            commit = group.wait(lambda lines: next((words for n, words in lines[mark:]
                                                    if n == 0 and words[0] == "committed"), None), 10)
            if commit is None:
                raise SystemExit(f"board 0 did not move the card: {group.lines[mark:]}")
            _, tid, version, state, at = commit

            def painted(lines):
                found = {n: tuple(map(float, words[4:7])) for n, words in lines[mark:]
                         if n != 0 and words[0] == "painted" and words[1:4] == [tid, version, state]}
                return found if len(found) == boards - 1 else None

            found = group.wait(painted, 5.0) or painted_so_far(group, mark, tid, version, state)
            missed += boards - 1 - len(found)
            samples.extend((when - float(at)) * 1000 for when, _, _ in found.values())
            for _, heard, applied in found.values():
                phases["heard"].append((heard - float(at)) * 1000)
                phases["applied"].append((applied - float(at)) * 1000)
            time.sleep(0.3)  # a quiet moment, as between a user's moves
    finally:
        group.close()
    return samples, missed, phases


def painted_so_far(group: Boards, mark: int, tid: str, version: str, state: str) -> dict[int, float]:
    return {n: tuple(map(float, words[4:7])) for n, words in group.lines[mark:]
            if n != 0 and words[0] == "painted" and words[1:4] == [tid, version, state]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(pg: str = PG_DEFAULT, count: int = 1_000_000, boards: int = 10, moves: int = 50, baseline: int = 100
        ) -> list[tuple[str, float, float, str, bool | None]]:
    big_url = ensure_schema(pg, BIG_SCHEMA if count == 1_000_000 else f"bench_team_{count}", count)
    base_url = ensure_schema(pg, BASE_SCHEMA, baseline, fresh=True)
    figures = {}
    for name, url, size in (("baseline", base_url, baseline), ("measured", big_url, count)):
        print(f"{name}: {size:,} tickets, {boards} boards, {moves} moves", flush=True)
        samples, missed, phases = measure(url, boards, moves)
        if not samples:
            raise SystemExit(f"{name}: no repaint was seen")
        figures[name] = (statistics.median(samples), percentile(samples, 0.95), max(samples), missed, len(samples))
        p50, p95, worst, missed, n = figures[name]
        print(f"  {n} repaints: p50 {p50:.0f} ms  p95 {p95:.0f} ms  max {worst:.0f} ms  missed {missed}; "
              f"median heard {statistics.median(phases['heard']):.0f} ms, "
              f"refresh in hand {statistics.median(phases['applied']):.0f} ms", flush=True)
    label = f"team mode, {boards} boards, {count:,} tickets on PostgreSQL: commit to repaint on the others"
    measured, base = figures["measured"], figures["baseline"]
    return [
        (f"{label}, p50", measured[0], base[0], "", None),
        (f"{label}, p95", measured[1], base[1], f"< {TARGET_MS:.0f} ms", measured[1] < TARGET_MS and not measured[3]),
        (f"{label}, max", measured[2], base[2], "", None),
    ]


def rows() -> list[tuple[str, float, float, str, bool | None]]:
    """The figures with the defaults (1,000,000 tickets, 10 boards, 50 moves), for bench/run_all.py."""
    return run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=PG_DEFAULT, help="the PostgreSQL database (schemas are made in it)")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=100, help="tickets on the baseline board")
    parser.add_argument("--board", help=argparse.SUPPRESS)  # a child: open this URL as one board
    parser.add_argument("--name", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--mover", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.board:
        asyncio.run(board(args.board, args.name, args.mover))
        return
    begun = time.perf_counter()
    table = run(args.pg, args.count, args.boards, args.moves, args.baseline)
    for figure, measured, base, target, met in table:
        result(figure, f"{measured:.0f} ms", f"{base:.0f} ms at {args.baseline} tickets", target, met)
    print(f"(total {time.perf_counter() - begun:.0f} s; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
