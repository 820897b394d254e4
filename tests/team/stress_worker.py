"""One stress-test session: random allowed moves from the version it read, as a board would.

    python tests/team/stress_worker.py URL CONFIG WORKER MOVES TICKETS SEED GO_FILE

Waits for GO_FILE (so all sessions start together), then prints one JSON
object: the accepted moves (key, history id, from, to, new version), the
count of conflicts (a stale version: a legitimate refusal), any other
refusal and any unexpected error with its traceback.

    python tests/team/stress_worker.py wip URL CONFIG WORKER ROUNDS TARGET DIR

The WIP race: in each round, waits for DIR/go-N, moves its two cards
(SET-2w+1, SET-2w+2) to TARGET, writes DIR/done-N-W, and finally prints
{"worker", "rounds": [[[key, "moved"|"refused", warnings...], ...], ...], "errors"}.
One process serves every round, so a round costs the moves, not 8 start-ups.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback


def main(url: str, config_path: str, worker: int, moves: int, tickets: int, seed: int, go_file: str) -> None:
    from app.config.settings import load_config
    from app.service import Conflict, Refused, Service
    from app.board.workflow import HOLD_REASONS
    from data.db import open_database

    report: dict = {"worker": worker, "accepted": [], "conflicts": 0, "refused": [], "errors": []}
    try:
        open_database(url, migrate=False)
        service = Service(load_config(config_path))
        workflow = service.workflow
        rng = random.Random(seed)
        deadline = time.monotonic() + 30
        while not os.path.exists(go_file) and time.monotonic() < deadline:
            time.sleep(0.01)
        for _ in range(moves):
            key = f"{service.config.board.key}-{rng.randint(1, tickets)}"
            try:
                seen = service.get(key)
                target = rng.choice(workflow.allowed(seen.state))
                hold = rng.choice(HOLD_REASONS) if workflow.column(target).is_hold else None
                result = service.move(key, target, by=f"w{worker}", hold_reason=hold, expected_version=seen.version)
                h = result.history
                report["accepted"].append([key, h.id, h.from_state, h.to_state, result.ticket.version])
            except Conflict:
                report["conflicts"] += 1
            except Refused as exc:
                report["refused"].append(str(exc))
            except Exception:  # noqa: BLE001 - the point is to catch and report any of them
                report["errors"].append(traceback.format_exc())
    except Exception:  # noqa: BLE001
        report["errors"].append(traceback.format_exc())
    json.dump(report, sys.stdout)


def wip(url: str, config_path: str, worker: int, rounds: int, target: str, folder: str) -> None:
    from pathlib import Path

    from app.config.settings import load_config
    from app.service import Refused, Service
    from data.db import open_database

    report: dict = {"worker": worker, "rounds": [], "errors": []}
    done = Path(folder)
    try:
        open_database(url, migrate=False)
        service = Service(load_config(config_path))
        keys = [f"{service.config.board.key}-{2 * worker + n}" for n in (1, 2)]
        for number in range(rounds):
            go, deadline = done / f"go-{number}", time.monotonic() + 60
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.002)
            outcomes = []
            for key in keys:
                try:
                    result = service.move(key, target, by="alice")
                    outcomes.append([key, "moved", *result.warnings])
                except Refused as exc:
                    outcomes.append([key, "refused", str(exc)])
                except Exception:  # noqa: BLE001
                    report["errors"].append(traceback.format_exc())
            report["rounds"].append(outcomes)
            (done / f"done-{number}-{worker}").touch()
    except Exception:  # noqa: BLE001
        report["errors"].append(traceback.format_exc())
    json.dump(report, sys.stdout)


if __name__ == "__main__" and sys.argv[1] == "wip":
    wip(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
elif __name__ == "__main__":
    url, config, worker, moves, tickets, seed, go = sys.argv[1:8]
    main(url, config, int(worker), int(moves), int(tickets), int(seed), go)
