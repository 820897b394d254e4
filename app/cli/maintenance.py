"""Upkeep of what the database derives from the tickets: `triageboard recount`."""

from __future__ import annotations

import click

from app.cli.common import pass_runtime
from app.cli.runtime import Runtime


@click.command()
@pass_runtime
def recount(runtime: Runtime) -> None:
    """Count the tickets again into the board's counts table (kept by triggers; for a database edited without them)."""
    from data.counts import rebuild

    workflow = runtime.service.workflow  # the service opens and migrates the database
    found = rebuild()
    click.echo(", ".join(f"{workflow.column(key).title} {found.get(key, 0)}" for key in workflow.keys))


def register(group: click.Group) -> None:
    group.add_command(recount)
