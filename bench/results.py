"""One line per measured figure, for `bench/run_all.py` to gather into its table.

A bench script calls `result(...)` for each figure it measures; the line it
prints (`RESULT {json}`) is read back by run_all, and a person running the
script alone sees the figure too.
"""

from __future__ import annotations

import json
import resource
import subprocess
import time


def result(figure: str, measured: str, baseline: str, target: str, met: bool | None) -> None:
    """`met` is None for a figure shown without a target (run_all prints "-")."""
    print("RESULT " + json.dumps({"figure": figure, "measured": measured, "baseline": baseline,
                                  "target": target, "met": None if met is None else bool(met)}), flush=True)


def parse(output: str) -> list[dict]:
    """The results a script printed, in order."""
    return [json.loads(line.removeprefix("RESULT ")) for line in output.splitlines() if line.startswith("RESULT ")]


def process(command: list[str], **run) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process run to its end (it must succeed).

    On this shared machine the wall time includes waiting for a core; the CPU time says what the
    command itself costs, so a figure missed only under load can be told from one that is slow.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **run)
    wall = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
