"""`triageboard sla rebuild|check`: the stored due instants (app.sla.due) against the `sla:` config.

The write path keeps each ticket's `sla_warn_at`/`sla_due_at` current; what it
cannot see is `config.yaml` changing under it (new working hours, a holiday,
another target). `rebuild` recomputes every ticket (a batch per transaction,
so a board in use waits a batch at most); `check` recomputes without writing
and lists what differs (exit 1 if anything does), for cron or after an upgrade.
Added to the `cli` group by `register` (app/cli/main.py, `LazyGroup`).
"""

from __future__ import annotations

import sys
import time

import click

from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import Runtime


@click.group("sla")
def sla() -> None:
    """The stored response-target due times: rebuild them after an sla: change, or check them."""


@sla.command("rebuild")
@click.option("--batch", type=click.IntRange(min=1, max=5000), default=500, show_default=True,
              help="tickets per transaction")
@pass_runtime
def rebuild(runtime: Runtime, batch: int) -> None:
    """Recompute every ticket's due times from the current sla: config (progress on stderr)."""
    from app.sla.source import progress_line, rebuild as run

    service = runtime.service
    started = time.perf_counter()
    count = run(runtime.config, service.clock(), chunk=batch, progress=progress_line())
    if count:
        print(file=sys.stderr)
    click.echo(f"recomputed the due times of {count:,} open ticket{'' if count == 1 else 's'} "
               f"in {time.perf_counter() - started:.1f} s")


@sla.command("check")
@click.option("--json", "as_json", is_flag=True, help="the mismatches as JSON")
@click.option("--show", type=int, default=20, show_default=True, help="list at most this many mismatches")
@pass_runtime
def check(runtime: Runtime, as_json: bool, show: int) -> None:
    """Compare the stored due times with the current sla: config; exit 1 if any differ."""
    from app.sla.source import check as run

    service = runtime.service
    found = list(run(runtime.config, service.clock()))
    if as_json:
        emit_json([{"key": m.key, "stored": [_iso(v) for v in m.stored], "computed": [_iso(v) for v in m.computed]}
                   for m in found])
    else:
        for mismatch in found[:show]:
            click.echo(f"{mismatch.key}: stored {_text(mismatch.stored)}, computed {_text(mismatch.computed)}")
        if len(found) > show:
            click.echo(f"… and {len(found) - show:,} more")
        click.echo(f"{len(found):,} mismatch{'' if len(found) == 1 else 'es'}"
                   + ("; run `triageboard sla rebuild`" if found else ""))
    if found:
        sys.exit(1)


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _text(values: tuple) -> str:
    if not values:
        return "nothing"
    warn, due, digest = values
    return f"warn {_iso(warn) or '-'} due {_iso(due) or '-'} ({digest or 'never computed'})"


def register(group: click.Group) -> None:
    group.add_command(sla)


__all__ = ["register"]
