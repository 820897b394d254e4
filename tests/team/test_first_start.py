"""Six processes opening a new database at the same instant all succeed (issue 22.4).

Each round makes a fresh database, starts six `python -c` openers that wait
at a barrier (a file), lets them go together and expects every one to exit 0
with the schema current. The upgrade takes a lock (BEGIN IMMEDIATE on SQLite,
an advisory lock on PostgreSQL) and re-reads the applied scripts inside it.
`TRIAGEBOARD_FIRST_START_ROUNDS` sets the rounds (default 5; 20 measured by hand).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 6
ROUNDS = int(os.environ.get("TRIAGEBOARD_FIRST_START_ROUNDS", "5"))
OPENER = """
import sys, time
from pathlib import Path
from data.db import open_database, schema_is_current
barrier = Path(sys.argv[2])
(barrier.parent / f"ready-{sys.argv[3]}").touch()
while not barrier.exists():
    time.sleep(0.002)
db = open_database(sys.argv[1])
assert schema_is_current(db)
print("ok")
"""


def test_six_simultaneous_first_starts_all_succeed(new_db_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    failures = []
    for round_ in range(ROUNDS):
        url = new_db_url()
        here = tmp_path / f"round-{round_}"
        here.mkdir()
        go = here / "go"
        openers = [subprocess.Popen([sys.executable, "-c", OPENER, url, str(go), str(n)], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for n in range(PROCESSES)]
        deadline = time.monotonic() + 60
        while len(list(here.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        for opener in openers:
            out, err = opener.communicate(timeout=60)
            if opener.returncode != 0 or out.strip() != "ok":
                failures.append(f"round {round_}: {err.strip().splitlines()[-1:] or out}")
    assert failures == [], f"{len(failures)} of {ROUNDS * PROCESSES} first starts failed: {failures[:5]}"
