"""`triageboard passwd HANDLE`: set a team member's password for `serve`'s built-in login.

The hash (argon2, `app.web.auth`) goes in the file `serve.auth.password_file`
names; the other members' lines are kept. A terminal is asked twice, without
echo; `--stdin` reads one line instead (for scripts). Only `team:` handles
get a password.
"""

from __future__ import annotations

import sys

import click

from app.cli.common import pass_runtime
from app.cli.runtime import Runtime, refuse


@click.command("passwd")
@click.argument("handle")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the password from standard input (one line)")
@pass_runtime
def passwd(runtime: Runtime, handle: str, from_stdin: bool) -> None:
    """Set HANDLE's password for `triageboard serve` (serve.auth.mode: password)."""
    from app.web.auth import password_problem, set_password

    config = runtime.config
    auth = config.serve.auth
    if auth is None or auth.mode != "password" or auth.password_file is None:
        refuse("passwords are for serve.auth.mode: password; set serve.auth (mode: password, password_file: FILE) "
               "in config.yaml first", 2)
    if config.member(handle) is None:
        refuse(f"unknown team member {handle!r} (team: {', '.join(config.handles)})", 2)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"New password for {handle}", hide_input=True, confirmation_prompt=True,
                                err=True)
    problem = password_problem(password)
    if problem:
        refuse(problem, 2)
    try:
        set_password(auth.password_file, handle, password)
    except OSError as exc:
        refuse(f"cannot write {auth.password_file}: {exc.strerror or exc}", 1)
    click.echo(f"password set for {handle} in {auth.password_file}", err=True)


def register(group: click.Group) -> None:
    group.add_command(passwd)
