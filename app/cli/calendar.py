"""`triageboard calendar`: serve only the live calendar feed; `calendar token` mints a subscription URL.

Added to the `cli` group by `register` (app/cli/main.py, `LazyGroup`). The secret comes from the
environment variable `calendar.secret_env` names (default TRIAGEBOARD_CALENDAR_SECRET); the feed
itself is `app.oncall.feed`, the HTTP handler `app.oncall.feed_server`.
"""

from __future__ import annotations

import os

import click

from app.cli.common import emit_json, pass_runtime
from app.cli.runtime import Runtime, now, refuse
from app.oncall.feed import MIN_SECRET, mint


def _secret(runtime: Runtime) -> str:
    name = runtime.config.oncall.calendar.secret_env
    secret = os.environ.get(name, "")
    if len(secret) < MIN_SECRET:
        refuse(f"set the environment variable {name} to a secret of at least {MIN_SECRET} characters "
               "(it signs the calendar tokens)", 2)
    return secret


@click.group("calendar", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535), help="the port")
@click.pass_context
def calendar(ctx: click.Context, host: str, port: int) -> None:
    """Serve the on-call calendar feed (GET /calendar/<token>.ics) until Ctrl+C."""
    if ctx.invoked_subcommand is not None:
        return
    from aiohttp import web

    from app.oncall.feed_server import FeedSource, feed_app

    runtime: Runtime = ctx.find_object(Runtime)
    source = FeedSource(runtime.config, lambda: now(runtime), _secret(runtime))
    click.echo(f"calendar: serving http://{host}:{port}/calendar/<token>.ics; Ctrl+C stops", err=True)
    web.run_app(feed_app(source), host=host, port=port, print=None, access_log=None)


@calendar.command("token")
@click.option("--member", metavar="HANDLE", help="one member's shifts [default: the whole team]")
@click.option("--json", "as_json", is_flag=True, help='print {"path": ..., "id": ..., "member": ...}')
@pass_runtime
def token(runtime: Runtime, member: str | None, as_json: bool) -> None:
    """Mint a feed URL path; list its id under calendar.revoked to revoke it."""
    if member is not None and runtime.config.member(member) is None:
        refuse(f"unknown team member {member!r} (team: {', '.join(runtime.config.handles)})")
    value, token_id = mint(_secret(runtime), member)
    path = f"/calendar/{value}.ics"
    if as_json:
        emit_json({"path": path, "id": token_id, "member": member})
        return
    click.echo(path)
    click.echo(f"id: {token_id} (to revoke: add it to calendar.revoked in the config)", err=True)


def register(group: click.Group) -> None:
    group.add_command(calendar)
