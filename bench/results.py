"""One line per measured figure, for `bench/run_all.py` to gather into its table.

A bench script calls `result(...)` for each figure it measures; the line it
prints (`RESULT {json}`) is read back by run_all, and a person running the
script alone sees the figure too.
"""

from __future__ import annotations

import json


def result(figure: str, measured: str, baseline: str, target: str, met: bool) -> None:
    print("RESULT " + json.dumps({"figure": figure, "measured": measured, "baseline": baseline,
                                  "target": target, "met": bool(met)}), flush=True)


def parse(output: str) -> list[dict]:
    """The results a script printed, in order."""
    return [json.loads(line.removeprefix("RESULT ")) for line in output.splitlines() if line.startswith("RESULT ")]
