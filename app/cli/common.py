"""What the command modules share: the runtime's pass decorator, JSON output, local time.

Apart from `app.cli.main` because main loads the command modules (`LazyGroup.LAZY`):
a command module that imported main back would make the two a cycle. Each command
module imports this and `app.cli.runtime`, and adds its commands in `register(group)`.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import tzinfo
from typing import Any

import click

from app.cli.runtime import Runtime
from widgets.safe_text import json_safe

pass_runtime = click.make_pass_decorator(Runtime)


def local_time(value: dt.datetime, tz: tzinfo) -> dt.datetime:
    """A stored naive-UTC instant on the board's wall clock."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(tz)


def emit_json(data: Any) -> None:
    click.echo(json_safe(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


__all__ = ["emit_json", "local_time", "pass_runtime"]
