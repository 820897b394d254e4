"""One stress-test session: random allowed moves from the version it read, as a board would.

    python tests/team/stress_worker.py URL CONFIG WORKER MOVES TICKETS SEED GO_FILE

Waits for GO_FILE (so all sessions start together), then prints one JSON
object: the accepted moves (key, history id, from, to, new version), the
count of conflicts (a stale version: a legitimate refusal), any other
refusal and any unexpected error with its traceback.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback


def main(url: str, config_path: str, worker: int, moves: int, tickets: int, seed: int, go_file: str) -> None:
    from app.config import load_config
    from app.service import Conflict, Refused, Service
    from app.workflow import HOLD_REASONS
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


if __name__ == "__main__":
    url, config, worker, moves, tickets, seed, go = sys.argv[1:8]
    main(url, config, int(worker), int(moves), int(tickets), int(seed), go)
